"""A small sample caption set written by the project (for `make demo` and examples).

Captions mention places in many countries (skewed towards a few, as web data is), carry one of
six entities, come in English, Spanish, Japanese, Hindi and Greek, and some name no place.
Generation is deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

ENTITIES = ["house", "car", "flag", "beach", "mountain", "living room"]

# (place as written, weight): English captions, skewed like web data
EN_PLACES = [
    ("New York", 6), ("Chicago", 3), ("Texas", 3), ("California", 3), ("London", 4),
    ("Edinburgh", 1), ("Toronto", 2), ("Vancouver", 1), ("Sydney", 2), ("Melbourne", 1),
    ("Paris", 2), ("Berlin", 1), ("Munich", 1), ("Rome", 1), ("Venice", 1), ("Madrid", 1),
    ("Lisbon", 1), ("Amsterdam", 1), ("Oslo", 1), ("Reykjavik", 1), ("Tokyo", 1),
    ("Mumbai", 1), ("Nairobi", 1), ("Lagos", 1), ("Cairo", 1), ("Cape Town", 1),
    ("Rio de Janeiro", 1), ("Lima", 1), ("Mexico City", 1), ("Buenos Aires", 1),
    ("Bangkok", 1), ("Hanoi", 1), ("Seoul", 1), ("Beijing", 1), ("Istanbul", 1),
    ("Marrakech", 1), ("Kathmandu", 1), ("Jakarta", 1), ("Manila", 1), ("Auckland", 1),
    ("Kenya", 1), ("Peru", 1), ("Iceland", 1), ("Vietnam", 1), ("Ghana", 1),
]  # fmt: skip
EN_TEMPLATES = {
    "house": ["A {adj} house in {place}", "Houses along a quiet street in {place}"],
    "car": ["An old car parked on a street in {place}", "Taxi cars in downtown {place}"],
    "flag": ["A flag waving over {place}", "Flags hanging from balconies in {place}"],
    "beach": ["Sunset on the beach, {place}", "Crowded beaches near {place} in summer"],
    "mountain": ["Hiking the mountains near {place}", "Snowy mountain seen from {place}"],
    "living room": ["Living room of a {adj} apartment in {place}", "Cozy living room, {place}"],
}
EN_NO_PLACE = {
    "house": "A {adj} wooden house with a garden",
    "car": "A vintage red car on an empty road",
    "flag": "A flag on a pole against a blue sky",
    "beach": "Kids playing on the beach",
    "mountain": "Snow-capped mountain at dawn",
    "living room": "Modern living room with a grey sofa",
}
ADJ = ["small", "modern", "tiny", "beautiful", "colourful", "traditional"]

# language -> (places as written in that language, templates per entity)
OTHER = {
    "es": (
        ["México", "Madrid", "España", "Buenos Aires", "Lima", "Bogotá", "Perú", "Sevilla"],
        {"house": "Una casa en {place}", "car": "Un coche antiguo en {place}",
         "flag": "La bandera ondea en {place}", "beach": "La playa de {place} al atardecer",
         "mountain": "Montañas cerca de {place}", "living room": "Sala de estar en {place}"},
    ),
    "ja": (
        ["東京", "大阪", "京都", "日本", "札幌"],
        {"house": "{place}の古い家", "car": "{place}の街を走る車", "flag": "{place}の旗",
         "beach": "{place}のビーチ", "mountain": "{place}から見た山",
         "living room": "{place}のマンションのリビングルーム"},
    ),
    "hi": (
        ["दिल्ली", "मुंबई", "भारत", "कोलकाता", "जयपुर"],
        {"house": "{place} में एक पुराना घर", "car": "{place} की सड़क पर कार",
         "flag": "{place} में लहराता झंडा", "beach": "{place} का समुद्र तट",
         "mountain": "{place} के पास पहाड़", "living room": "{place} में एक बैठक कक्ष"},
    ),
    "el": (
        ["Αθήνα", "Θεσσαλονίκη", "Ελλάδα", "Κρήτη", "Κύπρος"],
        {"house": "Ένα παλιό σπίτι στην {place}", "car": "Αυτοκίνητο σε δρόμο στην {place}",
         "flag": "Η σημαία στην {place}", "beach": "Παραλία στην {place} το καλοκαίρι",
         "mountain": "Βουνά κοντά στην {place}", "living room": "Σαλόνι σε σπίτι στην {place}"},
    ),
}  # fmt: skip
LANG_WEIGHTS = {"en": 60, "es": 10, "ja": 10, "hi": 10, "el": 10}


def generate(n: int = 300, seed: int = 7) -> list[dict]:
    """n caption records: id, text, lang, entity, url (same output for the same seed)."""
    rng = random.Random(seed)
    en_places, en_w = zip(*EN_PLACES, strict=True)
    langs, lang_w = zip(*LANG_WEIGHTS.items(), strict=True)
    rows = []
    for i in range(n):
        entity = ENTITIES[i % len(ENTITIES)]
        lang = rng.choices(langs, lang_w)[0]
        adj = rng.choice(ADJ)
        if lang == "en" and rng.random() < 0.2:
            text = EN_NO_PLACE[entity].format(adj=adj)
        elif lang == "en":
            place = rng.choices(en_places, en_w)[0]
            text = rng.choice(EN_TEMPLATES[entity]).format(adj=adj, place=place)
        else:
            places, templates = OTHER[lang]
            text = templates[entity].format(place=rng.choice(places))
        rows.append(
            {
                "id": f"{i:04d}",
                "text": text,
                "lang": lang,
                "entity": entity,
                "url": f"https://example.org/sample/{i:04d}.jpg",
            }
        )
    return rows


def write_sample(path: str | Path, n: int = 300, seed: int = 7) -> Path:
    """Write the sample as JSON lines to `path` (folders created) and return the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8") as f:
        for row in generate(n, seed):
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return p
