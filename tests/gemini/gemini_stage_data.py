"""Captions, places and the scripted model of the Gemini stage tests (see gemini_server.py)."""

from __future__ import annotations

import re

from gemini_server import error_body

CAPTIONS = {
    "t:1": "A sunset over the Eiffel Tower in Paris, France",
    "t:2": "Fresh bread on a wooden table",
    "t:3": "Street market in Buenos Aires on a Sunday",
    "t:4": "Temple at dawn in Kyoto",  # the server fails this one permanently (500)
    "t:5": "Hiking near Dhamar",  # the model rambles instead of naming a country
    "t:6": "A sunset over the Eiffel Tower in Paris, France",  # same text as t:1
}
EXTRACT = {
    CAPTIONS["t:1"]: "Paris, France",
    CAPTIONS["t:2"]: "no",
    CAPTIONS["t:3"]: "Buenos Aires",
    CAPTIONS["t:5"]: '"Dhamar".',
}
PREDICT = {
    "Paris, France": "France",
    "Buenos Aires": "Argentina",
    "Dhamar": "I believe it might be somewhere in Arabia",
}
PLACES = [
    (2988507, "Paris", "FR", 2_138_551),
    (4717560, "Paris", "US", 24_171),
    (3435910, "Buenos Aires", "AR", 13_076_300),
    (71137, "Dhamar", "YE", 160_114),
    (1857910, "Kyoto", "JP", 1_459_640),
    (2643743, "London", "GB", 8_961_989),
]
RETRY_INFO = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.01s"}
FAST = {"retry_base_s": 0.001, "retry_max_s": 0.05, "poll_s": 0.02, "max_retries": 3}


def reply(prompt: str, n: int, batch: bool):
    if prompt.startswith("You find the primary location"):
        caption = prompt.split("Caption: ", 1)[1].rsplit("\nLocation:", 1)[0]
        return 500 if "Kyoto" in caption else EXTRACT[caption]
    loc = re.search(r'names the location "([^"]+)"', prompt).group(1)
    if loc == "Buenos Aires" and n == 1 and not batch:
        return 429, {"Retry-After": "0"}, error_body(429, "quota", [RETRY_INFO])
    return PREDICT[loc]
