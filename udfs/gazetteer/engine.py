"""The offline geoparser's engine: texts -> predictions and mentions, set-based SQL in a
private in-memory DuckDB (steps in sql/geoparse/*.sql)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from udfs.gazetteer import mojibake, native
from udfs.gazetteer.features import (
    CAPTION_FEATURES,
    CONFIDENCE_FEATURES,
    FEATURES,
    MENTION_FEATURES,
    PRIOR_FEATURES,
)
from udfs.gazetteer.index import _materialize, _private_db
from udfs.gazetteer.lexicon import CJK, CJK_RE2, POSTCODES, SPECIAL_RE2
from udfs.gazetteer.model import load_confidence_model, load_mention_model, load_model

MAX_MENTIONS = 256  # per text: the first ones are kept (bounds the work on a huge text)
MIN_MENTION_SCORE = 0.05  # weaker mentions are noise ("The", "Ring") and are not stored


_AUTOMATA: dict[tuple, object] = {}  # CJK automata by index file identity (_file_id)


def _file_id(path: Path) -> tuple:
    st = path.stat()
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


# Parse distinct texts only when at most this share of a batch is distinct.
DEDUP_MAX_SHARE = 0.95


def parse_distinct(
    texts: list[str | None] | pa.Array | pa.ChunkedArray,
    parse_rows: Callable[[pa.Array], tuple[pa.Table, pa.Table]],
) -> tuple[pa.Table, pa.Table]:
    """`parse_rows` over the distinct texts, the answers copied back to every row (a text's
    answer depends on that text alone); over all rows when (nearly) all are distinct."""
    if isinstance(texts, pa.ChunkedArray):
        arr = texts.combine_chunks()
    else:
        arr = texts if isinstance(texts, pa.Array) else pa.array(texts, pa.string())
    enc = pc.dictionary_encode(arr, null_encoding="encode")
    if len(enc.dictionary) > DEDUP_MAX_SHARE * len(arr):
        return parse_rows(arr)
    preds, ments = parse_rows(enc.dictionary)
    return _expand(preds, ments, enc.indices.to_numpy(zero_copy_only=False))


def _expand(preds: pa.Table, ments: pa.Table, idx) -> tuple[pa.Table, pa.Table]:
    """The answers of distinct texts (r = position in the distinct list) back to the rows
    `idx` (a distinct text's position for each row): one prediction per row, and each row's
    copy of its text's mentions, in (row, start) order as parse gives them."""
    import numpy as np

    n, n_distinct = len(idx), preds.num_rows
    preds = preds.take(pa.array(idx)).set_column(0, "r", pa.arange(0, n))
    mr = ments["r"].to_numpy()
    count_u = np.bincount(mr, minlength=n_distinct).astype(np.int64)
    start_u = np.cumsum(count_u) - count_u  # parse sorts mentions by (r, start)
    count = count_u[idx]
    row = np.repeat(np.arange(n, dtype=np.int64), count)
    within = np.arange(len(row), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    ments = ments.take(pa.array(start_u[idx][row] + within))
    return preds, ments.set_column(0, "r", pa.array(row))


# Steps that run only when they can add mentions (see Engine.features).
MENTIONS_STEP, FUZZY_STEP = "20_mentions.sql", "25_fuzzy.sql"
SPECIAL_STEP, FEATURES_STEP = "26_special.sql", "30_features.sql"
# What the decision (40_captions.sql, mentions) reads of each scored candidate.
_SCORED = (
    "r, mid, cc, gid, lat, lon, a1, mtext, s, e, f_country, f_us_state, f_admin1, f_abbreviation,"
    " f_city, f_demonym, f_feature, f_city_dict_word, f_city_person_name, f_supported_by_mentions,"
    " p_prior"
)


# The confidence model's inputs for a text with no candidate (the rest default to 0).
_NO_CANDIDATE = {"logit_top": "geo_logit(0)", "logit_second": "-5.0"}


def _logistic(coef: list[float], intercept: float, names: list[str], col: str) -> str:
    """SQL for the logistic model 1 / (1 + exp(-(intercept + sum coef * column))), the
    columns named by `col` ("x.f_{}") formatted with each feature name."""
    z = " + ".join(f"{c!r} * {col.format(f)}" for c, f in zip(coef, names, strict=True))
    return f"1 / (1 + exp(-({intercept!r} + {z})))"


class Engine:
    """The offline geoparser: texts -> predictions and mentions, set-based in a private DuckDB.

    Steps live in sql/geoparse/*.sql (tokens, mentions, features, caption features); Python
    only finds postcodes and CJK names (few rows) and holds the trained weights.
    """

    def __init__(
        self,
        gazetteer: dict[str, pa.Table] | Path,
        model: dict | None = None,
        threshold: float | None = None,
        fuzzy: bool = False,
        max_mentions: int = MAX_MENTIONS,
        mention_model: dict | None = None,
        confidence_model: dict | None = None,
        threads: int | None = None,
        native: bool = True,
    ):
        """`fuzzy`: also look up unmatched capitalised words by trigram similarity (off by
        default: on the dev sets it changes about one answer in 600; on real captions the stage
        runs 20-30% slower with it, each distinct unmatched word compared once per batch).
        `max_mentions`: mentions kept per text (the first ones), bounding the work per row.
        `threads`: the private DuckDB's threads (default: one per core). `native`: use the
        native per-token pass when it is built (the same answers; False: SQL only)."""
        from geosql.paths import sql_dir

        self.model = model if model is not None else load_model()
        self.threshold = self.model["threshold"] if threshold is None else threshold
        self.db = _private_db()
        if isinstance(gazetteer, dict):
            _materialize(self.db, gazetteer)
        else:  # the cached index, read in place
            p = str(gazetteer).replace("'", "''")
            self.db.execute(
                f"ATTACH '{p}' AS gz (READ_ONLY); SET search_path = 'memory.main,gz.main'"
            )
        if threads:
            self.db.execute(f"SET threads = {int(threads)}")
        self.fuzzy = fuzzy
        self.max_mentions = int(max_mentions)
        self.db.execute(f"CREATE OR REPLACE TEMP MACRO g_max_mentions() AS {self.max_mentions}")
        self.set_prior(self.model)
        self.set_mention_model(mention_model if mention_model is not None else load_mention_model())
        cm = confidence_model if confidence_model is not None else load_confidence_model()
        self.confidence_model = cm or None
        self.db.execute(
            "CREATE TABLE g_special (r BIGINT, s BIGINT, e BIGINT, key VARCHAR, src VARCHAR,"
            " cc VARCHAR, score DOUBLE)"
        )
        self._steps = {
            f: (sql_dir() / "geoparse" / f).read_text(encoding="utf-8")
            for f in (
                "10_tokens.sql",
                "20_mentions.sql",
                FUZZY_STEP,
                SPECIAL_STEP,
                FEATURES_STEP,
            )
        }
        self._captions = (sql_dir() / "geoparse" / "40_captions.sql").read_text(encoding="utf-8")
        self._places = (sql_dir() / "geoparse" / "50_places.sql").read_text(encoding="utf-8")
        self.db.execute(f"CREATE OR REPLACE TEMP MACRO g_min_score() AS {MIN_MENTION_SCORE!r}")
        self._automaton = None
        self.native, self._fast = native and os.environ.get("GEOSQL_NATIVE") != "0", None
        # A file index is read in place: its CJK automaton is built once per process.
        self._index_id = None if isinstance(gazetteer, dict) else _file_id(Path(gazetteer))

    def set_prior(self, model: dict) -> None:
        """The first pass that weighs support (macro g_prior over a g_feat0 row): the model's
        prior_coef/prior_intercept, or 1.0 (support as plain counts) when it has none."""
        if model.get("prior_coef"):
            expr = _logistic(
                model["prior_coef"], model["prior_intercept"], PRIOR_FEATURES, "x.f_{}"
            )
        else:
            expr = "1.0::DOUBLE"
        self.db.execute(f"CREATE OR REPLACE TEMP MACRO g_prior(x) AS {expr}")

    def set_mention_model(self, model: dict | None) -> None:
        """The macro g_toponym over a row of g_out's m_* columns (50_places.sql): each mention's
        toponym_score from the mention model, NULL without one."""
        if model:
            p = _logistic(model["coef"], model["intercept"], MENTION_FEATURES, "x.m_{}")
            expr = f"round({p}, 4)"
        else:
            expr = "NULL::DOUBLE"
        self.db.execute(f"CREATE OR REPLACE TEMP MACRO g_toponym(x) AS {expr}")

    # -- steps
    def features(self, texts: list[str | None] | pa.Array | pa.ChunkedArray) -> None:
        """Run extract/retrieve/features over `texts`; the view g_feat has one row per
        candidate (computed when read)."""
        if isinstance(texts, pa.ChunkedArray):
            arr = texts.combine_chunks()
        else:
            arr = texts if isinstance(texts, pa.Array) else pa.array(texts, pa.string())
        arr = mojibake.fix_texts(arr)
        n_special, hit = self._special(arr)
        rows = pa.table({"r": pa.arange(0, len(arr)), "text": arr})
        # Pure-ASCII texts with no postcode/CJK hit take the native per-token pass when it
        # is built (udfs/gazetteer/native): the same g_ment/g_info/g_cuecc/g_vague rows.
        fp = self._native_pass() if not self.fuzzy else None
        fast = None
        if fp is not None:
            ok = pc.fill_null(pc.and_(pc.string_is_ascii(arr), pc.invert(hit)), False)
            fast = pc.indices_nonzero(ok).to_numpy()
            if len(fast):
                self._input(rows.filter(pc.invert(ok)))
        if fast is None or not len(fast):
            fast = None
            self._input(rows)
        for name, step in self._steps.items():
            # Optional steps run only when they can add mentions: fuzzy lookups when asked
            # for, postcodes/CJK names when the text has any (most batches have none).
            if (name == FUZZY_STEP and not self.fuzzy) or (name == SPECIAL_STEP and not n_special):
                continue
            if name == MENTIONS_STEP and fp is not None:  # the same rows, from gp_match
                native.insert_tokens(self.db, fp, self.max_mentions)
                continue
            if name == FEATURES_STEP:
                if fast is not None:
                    self._input(rows)
                    native.insert(self.db, fp, arr, fast, self.max_mentions)
                self._cap_mentions()
            self.db.execute(step)

    def _input(self, rows: pa.Table) -> None:
        self.db.register("_in", rows)
        self.db.execute("CREATE OR REPLACE TEMP TABLE g_input AS FROM _in")
        self.db.unregister("_in")

    def _native_pass(self):
        """The native pass over this engine's index, or None (not built, or turned off)."""
        if not self.native:
            return None
        if self._fast is None:
            self._fast = native.for_db(self.db, self._index_id) or False
        return self._fast or None

    def _cap_mentions(self) -> None:
        """Keep at most `max_mentions` mentions per text (the first ones): a long text's
        cost stays bounded (checked cheaply first: most batches are far below)."""
        m = self.max_mentions
        if self.db.sql(
            f"SELECT count(*) FROM (SELECT r FROM g_ment GROUP BY r HAVING count(*) > {m})"
        ).fetchall()[0][0]:
            self.db.execute(
                "DELETE FROM g_ment WHERE mid IN (SELECT mid FROM g_ment QUALIFY"
                f" row_number() OVER (PARTITION BY r ORDER BY mid) > {m})"
            )

    def feature_table(self) -> pa.Table:
        """g_feat in (r, mid, cc) order: what `score(p)` expects its `p` aligned to."""
        return self.db.sql("SELECT * FROM g_feat ORDER BY r, mid, cc").to_arrow_table()

    def _special(self, arr: pa.Array) -> tuple[int, pa.Array]:
        """Postcodes (UK, Canada, Australia) and CJK names into g_special (Python regexes and an
        Aho-Corasick automaton, run only on the rows that can have them); returns how many, and
        which rows can have them (the native pass leaves those to the SQL tokenizer)."""
        import pyarrow.compute as pc

        rows: list[tuple] = []
        # One RE2 pass finds the few rows that can have either; Python reads only those.
        hit = pc.match_substring_regex(arr, SPECIAL_RE2)
        auto = None
        for r in pc.indices_nonzero(pc.fill_null(hit, False)).to_pylist():
            text = arr[r].as_py()
            first = len(rows)
            for cc, rx in POSTCODES:
                for mt in rx.finditer(text):
                    key = " ".join(mt.group().lower().split()) + "#abbr"
                    rows.append((r, mt.start(), mt.end(), key, "postcode", cc, 2.0))
            if CJK.search(text):
                from udfs.language.names import cjk_boundary_ok

                auto = auto or self.cjk_automaton()
                low = text.lower()
                for end, key in auto.iter_long(low):
                    # A katakana name inside a longer katakana word is no mention: コレ in
                    # チョコレート (chocolate), トナ in ベトナム.
                    if cjk_boundary_ok(low, end - len(key) + 1, end + 1):
                        rows.append((r, end - len(key) + 1, end + 1, key, "cjk", None, None))
            if len(rows) - first > self.max_mentions:  # the first ones, in text order
                rows[first:] = sorted(rows[first:], key=lambda x: x[1])[: self.max_mentions]
        self.db.execute("DELETE FROM g_special")
        if rows:  # one Arrow insert (executemany costs ~1 ms a row)
            cols = list(zip(*rows, strict=True))
            types = [pa.int64()] * 3 + [pa.string()] * 3 + [pa.float64()]
            names = ["r", "s", "e", "key", "src", "cc", "score"]
            t = pa.table([pa.array(c, ty) for c, ty in zip(cols, types, strict=True)], names)
            self.db.register("_sp", t)
            self.db.execute("INSERT INTO g_special SELECT * FROM _sp")
            self.db.unregister("_sp")
        return len(rows), pc.fill_null(hit, False)

    def cjk_automaton(self):
        """The Aho-Corasick automaton of the index's CJK names (built on first use, ~0.5 s;
        shared by every engine of this process over the same index file)."""
        if self._automaton is None and self._index_id in _AUTOMATA:
            self._automaton = _AUTOMATA[self._index_id]
        if self._automaton is None:
            import ahocorasick

            a = ahocorasick.Automaton()
            for (k,) in self.db.sql(
                "SELECT key FROM g_names WHERE NOT vague AND regexp_matches(key, ?)",
                params=[CJK_RE2],
            ).fetchall():
                a.add_word(k, k)
            a.make_automaton()
            self._automaton = a
            if self._index_id is not None:
                _AUTOMATA.clear()  # one index per process in practice: keep only the latest
                _AUTOMATA[self._index_id] = a
        return self._automaton

    def score(self, p: pa.Array | None = None) -> None:
        """g_scored: the columns the decision reads from g_feat (a view, computed here) plus
        each candidate's probability, from the model or given `p` aligned to
        `feature_table()` (the training script's out-of-fold scores)."""
        if p is None:
            w, b = self.model["coef"], self.model["intercept"]
            logit = " + ".join(f"{c!r} * f_{f}" for c, f in zip(w, FEATURES, strict=True))
            self.db.execute(
                f"CREATE OR REPLACE TEMP TABLE g_scored AS SELECT {_SCORED},"
                f" 1 / (1 + exp(-({b!r} + {logit}))) AS p FROM g_feat"
            )
            return
        self.db.register("_p", pa.table({"n": pa.array(range(1, len(p) + 1)), "p": p}))
        self.db.execute(
            "CREATE OR REPLACE TEMP TABLE g_scored AS SELECT f.* EXCLUDE (n), _p.p FROM"
            f" (SELECT {_SCORED}, row_number() OVER (ORDER BY r, mid, cc) AS n FROM g_feat) f"
            " JOIN _p USING (n)"
        )
        self.db.unregister("_p")

    def caption_features(self) -> pa.Table:
        """Second-stage inputs per caption with a candidate (from g_scored)."""
        self.db.execute(self._captions)
        return self.db.sql("SELECT * FROM g_capfeat ORDER BY r").to_arrow_table()

    def decide(self, threshold: float | None = None) -> tuple[pa.Table, pa.Table]:
        """(predictions r/country_code/confidence/mention, mentions) from g_scored."""
        t = self.threshold if threshold is None else threshold
        self.db.execute(self._captions)
        if self.model.get("caption_coef"):
            m = self.model
            located = _logistic(m["caption_coef"], m["caption_intercept"], CAPTION_FEATURES, "{}")
        else:
            located = "p_top"
        # g_decided: each answer, the second stage's confidence in it, and the confidence
        # model's inputs (c_*: CONFIDENCE_FEATURES; defaults where a text has no candidate).
        inputs = ",\n".join(
            f"coalesce({f}, {_NO_CANDIDATE.get(f, '0.0')}) AS c_{f}"
            for f in CONFIDENCE_FEATURES[2:]
        )
        self.db.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE g_decided AS
            WITH d AS (SELECT *, {located} AS lp FROM g_capfeat), e AS (
                SELECT i.r, CASE WHEN d.lp >= {t!r} THEN d.cc END AS country_code,
                       CASE WHEN d.lp IS NULL THEN 1.0 WHEN d.lp >= {t!r} THEN d.lp
                            ELSE 1 - d.lp END AS raw_confidence,
                       d.* EXCLUDE (r, place_cue, cap_info, log_words, sentence),
                       ci.* EXCLUDE (r)
                FROM g_input i LEFT JOIN d USING (r) LEFT JOIN g_capinfo ci USING (r)
            )
            SELECT r, country_code, raw_confidence, mention,
                   geo_logit(raw_confidence) AS c_logit_confidence,
                   (country_code IS NOT NULL)::DOUBLE AS c_located,
                   {inputs}
            FROM e
            """
        )
        if self.confidence_model:
            cm = self.confidence_model
            conf = _logistic(cm["coef"], cm["intercept"], CONFIDENCE_FEATURES, "c_{}")
        else:
            conf = "raw_confidence"
        preds = self.db.sql(
            f"SELECT r, country_code, round({conf}, 4) AS confidence, mention"
            " FROM g_decided ORDER BY r"
        ).to_arrow_table()
        self.db.execute(self._places)
        ments = self.db.sql(
            "SELECT r, mention, start_pos, end_pos, geonameid, country_code, lat, lon, score,"
            " toponym_score FROM g_out ORDER BY mid"
        ).to_arrow_table()
        return preds, ments

    def parse(self, texts: list[str | None] | pa.Array) -> tuple[pa.Table, pa.Table]:
        """(predictions, mentions) of `texts` (row numbers r are the texts'). A text's answer
        depends on that text alone, so repeated texts (common in caption data) are parsed
        once and their rows copied."""
        return parse_distinct(texts, self.parse_rows)

    def parse_rows(self, arr: pa.Array) -> tuple[pa.Table, pa.Table]:
        """(predictions, mentions) of every row of `arr`, repeated or not."""
        self.features(arr)
        self.score()
        return self.decide()

    def close(self) -> None:
        """Close the private database."""
        self.db.close()

    def parse_one(self, text: str | None) -> dict:
        """{country_code, confidence, mention, mentions} for one text (tests, the REPL)."""
        preds, ments = self.parse([text])
        out = preds.to_pylist()[0]
        out.pop("r")
        out["mentions"] = [{k: v for k, v in m.items() if k != "r"} for m in ments.to_pylist()]
        return out
