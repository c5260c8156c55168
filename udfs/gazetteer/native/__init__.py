"""The native per-token pass (README.md here), through ctypes over fastpass.c: the g_ment and
g_vague rows of 20_mentions.sql for every text (`insert_tokens`, over 10_tokens.sql's tokens),
and for pure-ASCII texts the g_info and g_cuecc rows of 10_tokens.sql too (`insert`)."""

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
    lib.gp_match.restype = ctypes.c_int64
    i64 = ctypes.c_int64
    lib.gp_match.argtypes = [P, P, P, P, i64, P, P, P, P, P, P, P, P, P, i64, P, i64, P, i64, P]
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


def _rows(call, cap: int, ccap: int) -> tuple[np.ndarray, np.ndarray]:
    """(name rows, code rows) of a gp_parse/gp_match `call(out, cap, cout, ccap, &n_codes)`
    (10 int64 a row), called again with bigger buffers until both fit."""
    cap, ccap = max(1024, cap), max(1024, ccap)
    while True:
        out = np.empty((cap, 10), np.int64)
        cout = np.empty((ccap, 10), np.int64)
        nc = ctypes.c_int64(0)
        n = call(out.ctypes.data, cap, cout.ctypes.data, ccap, ctypes.byref(nc))
        if n >= 0 and nc.value <= ccap:
            return out[:n], cout[: nc.value]
        cap, ccap = max(cap, -n), max(ccap, nc.value)


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
        p = (self.h, td.ctypes.data, to.ctypes.data, rows.ctypes.data, len(rows), max_m)
        return _rows(lambda *o: self.lib.gp_parse(*p, *o), len(rows) * 4, len(rows) // 4)

    def match(self, tx, rows: np.ndarray, tk, ts, te, keys, ls, le, up, caps, max_m: int = 256):
        """`mentions` for texts tokenized elsewhere (gp_match): text k's tokens are
        tk[k]..tk[k+1]-1 at byte offsets ts/te of it, keys at ls..le of its joined keys, `up`
        per token, `caps` per text; offsets in the rows are bytes."""
        rows = np.ascontiguousarray(rows, np.int64)
        c = np.ascontiguousarray
        tk, ts, te, ls, le = (
            c(tk, np.int64),
            c(ts, np.int32),
            c(te, np.int32),
            c(ls, np.int32),
            c(le, np.int32),
        )
        up, caps = c(up, np.int8), c(caps, np.int8)
        p = (self.h, tx.data.ctypes.data, tx.offs.ctypes.data, rows.ctypes.data, len(rows))
        p += tuple(a.ctypes.data for a in (tk, ts, te))
        p += (keys.data.ctypes.data, keys.offs.ctypes.data)
        p += tuple(a.ctypes.data for a in (ls, le, up, caps)) + (max_m,)
        return _rows(lambda *o: self.lib.gp_match(*p, *o), len(ts) // 2, len(rows) // 4)

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
    names = db.sql(
        "SELECT key, vague, pronoun, key IN (SELECT key FROM g_gaz WHERE cc = 'GB') AS gb"
        " FROM g_names"
    ).to_arrow_table()
    prefix = db.sql("SELECT prefix, span FROM g_prefix").to_arrow_table()
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


from udfs.gazetteer.native.write import insert, insert_tokens  # noqa: E402

__all__ = ["FastPass", "available", "for_db", "insert", "insert_tokens"]
