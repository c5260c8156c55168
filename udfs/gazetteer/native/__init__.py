"""The native per-token pass (README.md here): pure-ASCII texts -> the SQL path's g_ment,
g_info, g_cuecc and g_vague rows, through ctypes over fastpass.c."""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import pyarrow as pa

_LIB = Path(__file__).with_name("_fastpass.so")
P = ctypes.c_void_p


def _lib():
    lib = ctypes.CDLL(str(_LIB))
    lib.gp_new.restype = P
    lib.gp_new.argtypes = [P, P, ctypes.c_int64, P, P, P, ctypes.c_int64, P]
    lib.gp_parse.restype = ctypes.c_int64
    lib.gp_parse.argtypes = [
        P,
        P,
        P,
        P,
        ctypes.c_int64,
        ctypes.c_int64,
        P,
        ctypes.c_int64,
        P,
        ctypes.c_int64,
        P,
    ]
    lib.gp_codes.argtypes = [P, P, P, ctypes.c_int64, P]
    lib.gp_free.argtypes = [P]
    lib.gp_words.argtypes = [P, P, P, ctypes.c_int64, P]
    lib.gp_cues.restype = ctypes.c_int64
    lib.gp_cues.argtypes = [P, P, P, P, ctypes.c_int64, P, ctypes.c_int64]
    lib.gp_info.argtypes = [P, P, P, ctypes.c_int64, P]
    return lib


def _strings(arr: pa.Array):
    arr = arr.cast(pa.large_string())
    bufs = arr.buffers()
    offs = np.frombuffer(bufs[1], np.int64)[arr.offset : arr.offset + len(arr) + 1].copy()
    data = np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None else np.zeros(1, np.uint8)
    return data, offs


class FastPass:
    """Names and prefixes loaded once; `mentions(texts, rows)` -> (r, i, sz, s, e, vague, ps, pe, ns, ne)."""

    def __init__(self, names: pa.Table, prefix: pa.Table):
        self.lib = _lib()
        nd, no = _strings(names["key"].combine_chunks())
        nv = (
            names["vague"].to_numpy(zero_copy_only=False).astype(np.int32)
            | (names["pronoun"].to_numpy(zero_copy_only=False).astype(np.int32) << 1)
            | (names["gb"].to_numpy(zero_copy_only=False).astype(np.int32) << 2)
        )
        pd_, po = _strings(prefix["prefix"].combine_chunks())
        pv = prefix["span"].to_numpy(zero_copy_only=False).astype(np.int32)
        self._keep = (nd, no, nv, pd_, po, pv)
        self.h = self.lib.gp_new(
            nd.ctypes.data,
            no.ctypes.data,
            len(no) - 1,
            nv.ctypes.data,
            pd_.ctypes.data,
            po.ctypes.data,
            len(po) - 1,
            pv.ctypes.data,
        )

    def set_codes(self, codes: pa.Table) -> None:
        """Codes (raw tokens) -> bits us 1, ca 2, au 4, UK postcode area 8."""
        d, o = _strings(codes["code"].combine_chunks())
        v = np.ascontiguousarray(codes["v"].to_numpy(zero_copy_only=False), np.int32)
        self._codes = (d, o, v)
        self.lib.gp_codes(self.h, d.ctypes.data, o.ctypes.data, len(o) - 1, v.ctypes.data)

    def mentions(self, texts: pa.Array, rows: np.ndarray, max_m: int = 256):
        """(names: r, i, sz, s, e, vague, ps, pe, ns, ne; codes: r, i, s, e, ps, pe, ns, ne,
        cc 1-4, score x 10)."""
        td, to = _strings(texts)
        rows = np.ascontiguousarray(rows, np.int64)
        cap, ccap = max(1024, len(rows) * 4), max(1024, len(rows) // 4)
        while True:
            out = np.empty((cap, 10), np.int64)
            cout = np.empty((ccap, 10), np.int64)
            nc = ctypes.c_int64(0)
            n = self.lib.gp_parse(
                self.h,
                td.ctypes.data,
                to.ctypes.data,
                rows.ctypes.data,
                len(rows),
                max_m,
                out.ctypes.data,
                cap,
                cout.ctypes.data,
                ccap,
                ctypes.byref(nc),
            )
            if n >= 0 and nc.value <= ccap:
                return out[:n], cout[: nc.value]
            cap, ccap = max(cap, -n), max(ccap, nc.value)

    def set_words(self, words: pa.Table) -> None:
        """g_words' cue (bit 0) and listing (bit 1) words."""
        d, o = _strings(words["word"].combine_chunks())
        v = np.ascontiguousarray(words["v"].to_numpy(zero_copy_only=False), np.int32)
        self._words = (d, o, v)
        self.lib.gp_words(self.h, d.ctypes.data, o.ctypes.data, len(o) - 1, v.ctypes.data)

    def info(self, texts: pa.Array) -> np.ndarray:
        """(n_words, n_cap, place_cue, listing_cue, all_caps, ends_sentence) a text."""
        td, to = _strings(texts)
        out = np.empty((len(to) - 1, 6), np.int64)
        self.lib.gp_info(self.h, td.ctypes.data, to.ctypes.data, len(to) - 1, out.ctypes.data)
        return out

    def cues(self, texts: pa.Array, rows: np.ndarray) -> np.ndarray:
        """(r, s, e, ns, ne) of tokens that begin a country term (words bit 2)."""
        td, to = _strings(texts)
        rows = np.ascontiguousarray(rows, np.int64)
        cap = max(1024, len(rows) // 4)
        while True:
            out = np.empty((cap, 5), np.int64)
            n = self.lib.gp_cues(
                self.h,
                td.ctypes.data,
                to.ctypes.data,
                rows.ctypes.data,
                len(rows),
                out.ctypes.data,
                cap,
            )
            if n >= 0:
                return out[:n]
            cap = -n


ASCII_RE2 = r"^[\x00-\x7f]*$"
_CACHE: dict[tuple, FastPass] = {}  # by index file identity, as the CJK automata


def available() -> bool:
    """The library is built (`make setup`) and loads."""
    try:
        _lib()
    except OSError:
        return False
    return True


def for_db(db, index_id: tuple | None) -> FastPass | None:
    """The engine database's names, prefixes, codes and words in native tables (built once per
    index file and process), or None without the library."""
    if index_id is not None and index_id in _CACHE:
        return _CACHE[index_id]
    if not available():
        return None
    ascii_key = "regexp_full_match(key, '[a-z0-9 ]+')"
    names = db.sql(
        "SELECT key, vague, pronoun, key IN (SELECT key FROM g_gaz WHERE cc = 'GB') AS gb"
        f" FROM g_names WHERE {ascii_key}"
    ).to_arrow_table()
    prefix = db.sql(
        "SELECT prefix, span FROM g_prefix WHERE regexp_full_match(prefix, '[a-z0-9 ]+')"
    ).to_arrow_table()
    fp = FastPass(names, prefix)
    fp.set_codes(
        db.sql(
            "SELECT code, bit_or(v)::INT AS v FROM (SELECT code, us::INT + 2 * ca::INT"
            " + 4 * au::INT AS v FROM g_codes UNION ALL"
            " SELECT word, 8 FROM g_words WHERE kind = 'ukarea') GROUP BY code"
        ).to_arrow_table()
    )
    fp.set_words(
        db.sql(
            "SELECT word, bit_or(v)::INT AS v FROM (SELECT word, CASE kind WHEN 'cue' THEN 1"
            " ELSE 2 END AS v FROM g_words WHERE kind IN ('cue', 'listing') UNION ALL"
            " SELECT DISTINCT k, 4 FROM g_cues WHERE NOT symbol) GROUP BY word"
        ).to_arrow_table()
    )
    if index_id is not None:
        _CACHE.clear()
        _CACHE[index_id] = fp
    return fp


def _cols(a: np.ndarray, names: list[str]) -> pa.Table:
    return pa.table({n: a[:, j] for j, n in enumerate(names)})


def insert(db, fp: FastPass, texts: pa.Array, idx: np.ndarray, max_m: int) -> None:
    """g_ment (names and codes), g_info, g_cuecc and g_vague rows of the texts at `idx`
    (pure ASCII, no postcode/CJK hit), as 10_tokens.sql and 20_mentions.sql would write
    them; g_input must hold every row."""
    sub = texts.take(pa.array(idx))
    names, codes = fp.mentions(sub, idx, max_m)
    info, cues = fp.info(sub), fp.cues(sub, idx)
    cut = "substring(x.text, {0} + 1, {1} - {0})"
    db.register("_nm", _cols(names, ["r", "i", "sz", "s", "e", "vague", "ps", "pe", "ns", "ne"]))
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _nmx AS
        SELECT n.*, {cut.format("n.s", "n.e")} AS mtext,
               {cut.format("greatest(n.pe, 0)", "n.s")} AS sep,
               CASE WHEN n.ps >= 0 THEN {cut.format("n.ps", "n.pe")} END AS pt,
               CASE WHEN n.ns >= 0 THEN {cut.format("n.ns", "n.ne")} END AS nt,
               substring(x.text, n.e + 1, 1) AS nsep
        FROM _nm n JOIN g_input x USING (r);
        INSERT INTO g_ment BY NAME
        SELECT r * 4294967296 + s AS mid, r, i, sz,
               lower(regexp_replace(mtext, '[^A-Za-z0-9]+', ' ', 'g')) AS key, s, e, mtext,
               sep, pt, lower(pt) AS pk, nt, lower(nt) AS nk, nsep, 'name' AS src
        FROM _nmx WHERE vague = 0;
        INSERT INTO g_vague
        SELECT r, lower(regexp_replace(mtext, '[^A-Za-z0-9]+', ' ', 'g')) AS key, s, e
        FROM _nmx WHERE vague = 1 AND key IN (SELECT key FROM g_region);
        DROP TABLE _nmx;
        """
    )
    db.unregister("_nm")
    db.register("_nc", _cols(codes, ["r", "i", "s", "e", "ps", "pe", "ns", "ne", "cc", "sc"]))
    db.execute(
        f"""
        INSERT INTO g_ment BY NAME
        SELECT c.r * 4294967296 + c.s AS mid, c.r, c.i, 1 AS sz,
               lower({cut.format("c.s", "c.e")}) || '#abbr' AS key, c.s, c.e,
               {cut.format("c.s", "c.e")} AS mtext, {cut.format("c.pe", "c.s")} AS sep,
               {cut.format("c.ps", "c.pe")} AS pt, lower({cut.format("c.ps", "c.pe")}) AS pk,
               CASE WHEN c.ns >= 0 THEN {cut.format("c.ns", "c.ne")} END AS nt,
               CASE WHEN c.ns >= 0 THEN lower({cut.format("c.ns", "c.ne")}) END AS nk,
               'code' AS src, ['US', 'CA', 'AU', 'GB'][c.cc] AS cc,
               CASE WHEN c.sc = 25 THEN 2.5 ELSE 1.2 END AS score
        FROM _nc c JOIN g_input x USING (r)
        """
    )
    db.unregister("_nc")
    info = np.column_stack([idx, info])
    db.register("_ni", _cols(info, ["r", "nw", "nc", "cue", "lst", "caps", "ends"]))
    db.execute(
        """
        INSERT INTO g_info BY NAME
        SELECT r, nw > 0 AND nc > 0 AND nc <= 0.6 * nw AND caps = 0 AS cap_info,
               cue = 1 AS place_cue, lst = 1 AS listing_cue, log10(nw + 1) AS log_words,
               nw AS n_words, caps = 1 AS all_caps, ends = 1 AS ends_sentence
        FROM _ni
        """
    )
    db.unregister("_ni")
    db.register("_nq", _cols(cues, ["r", "s", "e", "ns", "ne"]))
    db.execute(
        f"""
        INSERT INTO g_cuecc
        SELECT DISTINCT u.r, c.cc
        FROM (SELECT u.r, lower({cut.format("u.s", "u.e")}) AS k,
                     CASE WHEN u.ns >= 0 THEN lower({cut.format("u.ns", "u.ne")}) END AS k1
              FROM _nq u JOIN g_input x USING (r)) u
        JOIN g_cues c ON c.k = u.k
        WHERE NOT c.symbol AND (c.k1 IS NULL OR c.k1 = u.k1)
        """
    )
    db.unregister("_nq")
