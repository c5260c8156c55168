"""The native pass's rows written to the engine's database: substrings cut from the text bytes
with numpy (no round trip through DuckDB), then one Arrow insert per table."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from udfs.gazetteer.native import FastPass, _strings


def _cols(a: np.ndarray, names: list[str]) -> pa.Table:
    return pa.table({n: a[:, j] for j, n in enumerate(names)})


class _Texts:
    """The batch's pure-ASCII texts as bytes: `cut` gathers substrings by byte offsets into
    Arrow strings without a round trip through DuckDB (ASCII: a byte is a character)."""

    def __init__(self, texts: pa.Array):
        self.data, self.offs = _strings(texts)

    def cut(self, t: np.ndarray, s: np.ndarray, e: np.ndarray, valid=None, lower=False):
        """text t[k] from byte s[k] to e[k] (clipped to the text), NULL where not `valid`;
        `lower`: ASCII lower case."""
        base = self.offs[t]
        end = self.offs[t + 1]
        a = np.minimum(base + np.maximum(s, 0), end)
        b = np.minimum(base + np.maximum(e, 0), end)
        n = np.maximum(b - a, 0)
        if valid is not None:
            n = np.where(valid, n, 0)
        out = np.zeros(len(n) + 1, np.int64)
        np.cumsum(n, out=out[1:])
        idx = np.repeat(a - out[:-1], n) + np.arange(out[-1], dtype=np.int64)
        buf = self.data[idx]
        if lower:
            buf = buf | ((buf >= 65) & (buf <= 90)).astype(np.uint8) * 32
        return _string_array(buf, out, valid)


def _string_array(buf: np.ndarray, offs: np.ndarray, valid=None) -> pa.Array:
    bitmap = None
    if valid is not None:
        bitmap = pa.py_buffer(np.packbits(valid.astype(bool), bitorder="little"))
    return pa.Array.from_buffers(
        pa.large_string(), len(offs) - 1, [bitmap, pa.py_buffer(offs), pa.py_buffer(buf)]
    )


def _key(mtext: pa.Array) -> pa.Array:
    """geo_norm of a pure-ASCII name mention: lower case, each run of other characters one
    space (what lower(regexp_replace(mtext, '[^A-Za-z0-9]+', ' ', 'g')) gives)."""
    bufs = mtext.buffers()
    offs = np.frombuffer(bufs[1], np.int64)[: len(mtext) + 1]
    b = (
        np.frombuffer(bufs[2], np.uint8)[: offs[-1]]
        if bufs[2] is not None
        else np.zeros(0, np.uint8)
    )
    low = b | ((b >= 65) & (b <= 90)).astype(np.uint8) * 32
    al = ((low >= 97) & (low <= 122)) | ((low >= 48) & (low <= 57))
    first = np.zeros(len(b), bool)
    first[offs[:-1][offs[:-1] < offs[1:]]] = True
    # a character is kept when it is a letter/digit, or the first of a run of others
    prev_al = np.concatenate([[False], al[:-1]]) | first
    keep = al | (~al & prev_al)
    out = np.where(al, low, 32).astype(np.uint8)[keep]
    kept = np.concatenate([[0], np.cumsum(keep)])
    return _string_array(out, kept[offs].astype(np.int64))


def _codes(cols: dict, cc: np.ndarray, sc: np.ndarray) -> pa.Table:
    """Code rows: their columns plus the country (1-4: US, CA, AU, GB) and score (x 10)."""
    cols["cc"] = pa.array(np.array(["US", "CA", "AU", "GB"])[cc - 1], pa.string())
    cols["score"] = np.where(sc == 25, 2.5, 1.2)
    return pa.table(cols)


def _write(db, names: pa.Table, vague: np.ndarray, codes: pa.Table) -> None:
    """Name rows into g_ment (vague ones into g_vague when a continent), then code rows."""
    db.register("_nm", names.filter(pa.array(~vague)))
    db.register("_nv", names.filter(pa.array(vague)).select(["r", "key", "s", "e"]))
    db.register("_nc", codes)
    db.execute(
        """
        INSERT INTO g_ment BY NAME SELECT *, 'name' AS src FROM _nm;
        INSERT INTO g_vague SELECT * FROM _nv WHERE key IN (SELECT key FROM g_region);
        INSERT INTO g_ment BY NAME
        SELECT *, 1 AS sz, lower(mtext) || '#abbr' AS key, 'code' AS src FROM _nc;
        """
    )
    for t in ("_nm", "_nv", "_nc"):
        db.unregister(t)


def insert(db, fp: FastPass, texts: pa.Array, idx: np.ndarray, max_m: int) -> None:
    """g_ment (names and codes), g_info, g_cuecc and g_vague rows of the texts at `idx`
    (pure ASCII, no postcode/CJK hit), as 10_tokens.sql and 20_mentions.sql would write
    them."""
    sub = texts.take(pa.array(idx))
    names, codes = fp.mentions(sub, idx, max_m)
    info, cues = fp.info(sub), fp.cues(sub, idx)
    tx = _Texts(sub)
    pos = np.empty(int(idx.max()) + 1 if len(idx) else 0, np.int64)
    pos[idx] = np.arange(len(idx))
    r, i, sz, s, e, vague, ps, pe, ns, ne = names.T
    t = pos[r]
    mtext = tx.cut(t, s, e)
    pt, nt = tx.cut(t, ps, pe, ps >= 0), tx.cut(t, ns, ne, ns >= 0)
    ment = pa.table(
        {
            "mid": r * 4294967296 + s,
            "r": r,
            "i": i,
            "sz": sz,
            "key": _key(mtext),
            "s": s,
            "e": e,
            "mtext": mtext,
            "sep": tx.cut(t, np.maximum(pe, 0), s),
            "pt": pt,
            "pk": tx.cut(t, ps, pe, ps >= 0, lower=True),
            "nt": nt,
            "nk": tx.cut(t, ns, ne, ns >= 0, lower=True),
            "nsep": tx.cut(t, e, e + 1),
        }
    )
    r, i, s, e, ps, pe, ns, ne, cc, sc = codes.T
    t = pos[r]
    coded = {
        "mid": r * 4294967296 + s,
        "r": r,
        "i": i,
        "s": s,
        "e": e,
        "mtext": tx.cut(t, s, e),
        "sep": tx.cut(t, pe, s),
        "pt": tx.cut(t, ps, pe),
        "pk": tx.cut(t, ps, pe, lower=True),
        "nt": tx.cut(t, ns, ne, ns >= 0),
        "nk": tx.cut(t, ns, ne, ns >= 0, lower=True),
    }
    _write(db, ment, vague == 1, _codes(coded, cc, sc))
    info = np.column_stack([idx, info])
    db.register("_ni", _cols(info, ["r", "nw", "nc", "cue", "lst", "caps", "ends"]))
    r, s, e, ns, ne = cues.T
    t = pos[r]
    db.register(
        "_nq",
        pa.table(
            {
                "r": r,
                "k": tx.cut(t, s, e, lower=True),
                "k1": tx.cut(t, ns, ne, ns >= 0, lower=True),
            }
        ),
    )
    db.execute(
        """
        INSERT INTO g_info BY NAME
        SELECT r, nw > 0 AND nc > 0 AND nc <= 0.6 * nw AND caps = 0 AS cap_info,
               cue = 1 AS place_cue, lst = 1 AS listing_cue, log10(nw + 1) AS log_words,
               nw AS n_words, caps = 1 AS all_caps, ends = 1 AS ends_sentence
        FROM _ni;
        INSERT INTO g_cuecc
        SELECT DISTINCT u.r, c.cc
        FROM _nq u JOIN g_cues c ON c.k = u.k
        WHERE NOT c.symbol AND (c.k1 IS NULL OR c.k1 = u.k1);
        """
    )
    db.unregister("_ni")
    db.unregister("_nq")


# What 20_mentions.sql creates (the native passes then fill them).
_TABLES = """
CREATE OR REPLACE TEMP TABLE g_ment (mid BIGINT, r BIGINT, i BIGINT, sz BIGINT, key VARCHAR,
    s BIGINT, e BIGINT, mtext VARCHAR, sep VARCHAR, pt VARCHAR, pk VARCHAR, nt VARCHAR,
    nk VARCHAR, nsep VARCHAR, src VARCHAR, cc VARCHAR, score DOUBLE, sim DOUBLE);
CREATE OR REPLACE TEMP TABLE g_vague (r BIGINT, key VARCHAR, s BIGINT, e BIGINT);
"""


def _within(counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Exclusive running sum of `values` within consecutive groups of `counts` items."""
    cum = np.concatenate([[0], np.cumsum(values)])
    first = np.repeat(np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    return cum[:-1] - cum[first]


def insert_tokens(db, fp: FastPass, max_m: int) -> None:
    """20_mentions.sql for the texts 10_tokens.sql tokenized (g_text: any script, postcodes
    and CJK too): its tokens and keys through gp_match, the same g_ment and g_vague rows
    (offsets in characters)."""
    db.execute(_TABLES)
    t = db.sql(
        "SELECT r, text, toks, ks, pj, all_caps,"
        " list_transform(toks, lambda x: geo_isupper(x)) AS up FROM g_text"
    ).to_arrow_table()
    if not t.num_rows:
        return
    tx = _Texts(t["text"].combine_chunks())
    toks = t["toks"].combine_chunks()
    counts = pc.list_value_length(toks).to_numpy(zero_copy_only=False).astype(np.int64)
    tk = np.concatenate([[0], np.cumsum(counts)])
    flat = pc.list_flatten(toks)
    clen = pc.utf8_length(flat).to_numpy(zero_copy_only=False).astype(np.int64)
    pj = pc.list_flatten(t["pj"].combine_chunks()).to_numpy(zero_copy_only=False)
    tok_text = np.repeat(np.arange(len(counts)), counts)
    off = pj - 1 + _within(counts, clen)  # characters, as 10_tokens.sql's g_offset
    # characters <-> bytes: a byte that is no UTF-8 continuation byte starts a character
    starts = (tx.data & 0xC0) != 0x80
    cnt = np.concatenate([[0], np.cumsum(starts)])
    where = np.flatnonzero(starts)
    base, nch = cnt[tx.offs[:-1]], cnt[tx.offs[1:]] - cnt[tx.offs[:-1]]

    def byte(k: np.ndarray, c: np.ndarray) -> np.ndarray:
        c = np.minimum(c, nch[k])
        if not len(where):
            return np.zeros(len(k), np.int64)
        at = np.minimum(base[k] + c, len(where) - 1)
        return np.where(c < nch[k], where[at] - tx.offs[k], tx.offs[k + 1] - tx.offs[k])

    def char(k: np.ndarray, b: np.ndarray) -> np.ndarray:
        return cnt[tx.offs[k] + b] - base[k]

    ts, te = byte(tok_text, off), byte(tok_text, off + clen)
    ks = t["ks"].combine_chunks()
    klen = pc.binary_length(pc.list_flatten(ks)).to_numpy(zero_copy_only=False).astype(np.int64)
    keys = _Texts(pc.binary_join(ks, " "))
    ls = _within(counts, klen + 1)
    up = pc.list_flatten(t["up"].combine_chunks()).to_numpy(zero_copy_only=False)
    caps = t["all_caps"].to_numpy(zero_copy_only=False)
    rows = t["r"].to_numpy()
    names, codes = fp.match(tx, rows, tk, ts, te, keys, ls, ls + klen, up, caps, max_m)
    pos = np.empty(int(rows.max()) + 1, np.int64)
    pos[rows] = np.arange(len(rows))
    r, i, sz, s, e, vague, ps, pe, ns, ne = names.T
    k = pos[r]
    sc, ec = char(k, s), char(k, e)
    a = tk[k] + i

    def key(k: np.ndarray, j: np.ndarray, ok: np.ndarray) -> pa.Array:
        """Token j's key (geo_norm, as g_context's pk/nk), NULL where not `ok`."""
        j = np.clip(j, 0, max(len(klen) - 1, 0))
        return keys.cut(k, ls[j], ls[j] + klen[j], ok)

    ment = pa.table(
        {
            "mid": r * 4294967296 + sc,
            "r": r,
            "i": i,
            "sz": sz,
            "key": keys.cut(k, ls[a], ls[a + sz - 1] + klen[a + sz - 1]),
            "s": sc,
            "e": ec,
            "mtext": tx.cut(k, s, e),
            "sep": tx.cut(k, np.maximum(pe, 0), s),
            "pt": tx.cut(k, ps, pe, ps >= 0),
            "pk": key(k, a - 1, ps >= 0),
            "nt": tx.cut(k, ns, ne, ns >= 0),
            "nk": key(k, a + sz, ns >= 0),
            "nsep": tx.cut(k, e, byte(k, ec + 1)),
        }
    )
    r, i, s, e, ps, pe, ns, ne, cc, sc = codes.T
    k = pos[r]
    a = tk[k] + i
    coded = {
        "mid": r * 4294967296 + char(k, s),
        "r": r,
        "i": i,
        "s": char(k, s),
        "e": char(k, e),
        "mtext": tx.cut(k, s, e),
        "sep": tx.cut(k, pe, s),
        "pt": tx.cut(k, ps, pe),
        "pk": key(k, a - 1, ps >= 0),
        "nt": tx.cut(k, ns, ne, ns >= 0),
        "nk": key(k, a + 1, ns >= 0),
    }
    _write(db, ment, vague == 1, _codes(coded, cc, sc))
