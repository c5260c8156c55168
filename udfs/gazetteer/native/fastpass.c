/* Native per-token pass of the offline geoparser (README.md beside it): for pure-ASCII
   texts, tokens ([A-Za-z0-9]+ runs), at each token the longest gazetteer name of its n-grams,
   codes, caption facts and country-term tokens, by the rules of sql/geoparse/10_tokens.sql
   and 20_mentions.sql. Built by `make native`; loaded through ctypes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct { uint64_t h; int64_t off; int32_t len; int32_t val; } slot_t;
/* bloom: 16 bits a key, two of them set, in front of the slots; the slots of the names table
   (~100 MB) are a cache miss a lookup, the bits (~2 MB) mostly stay in cache, and most n-gram
   and prefix lookups miss. */
typedef struct { slot_t *s; uint64_t mask; char *data; uint64_t *bloom; uint64_t bmask; } table_t;

static uint64_t bbit2(uint64_t h) { return (h * 0x9E3779B97F4A7C15ULL) >> 20; }
typedef struct { table_t names, prefix, words, codes; int has_codes; } gp_t;

static uint64_t fnv(const char *p, int32_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (int32_t i = 0; i < n; i++) { h ^= (unsigned char)p[i]; h *= 1099511628211ULL; }
    return h | 1;
}

static void t_build(table_t *t, const char *data, const int64_t *offs, int64_t n, const int32_t *vals) {
    uint64_t cap = 1; while (cap < (uint64_t)n * 2 + 2) cap <<= 1;
    t->s = calloc(cap, sizeof(slot_t)); t->mask = cap - 1;
    uint64_t bits = 64; while (bits < (uint64_t)n * 16) bits <<= 1;
    t->bloom = calloc(bits / 64, sizeof(uint64_t)); t->bmask = bits - 1;
    t->data = malloc(offs[n] + 1); memcpy(t->data, data, offs[n]);
    for (int64_t i = 0; i < n; i++) {
        int32_t len = (int32_t)(offs[i + 1] - offs[i]);
        uint64_t h = fnv(data + offs[i], len), j = h & t->mask;
        while (t->s[j].h) j = (j + 1) & t->mask;
        t->s[j].h = h; t->s[j].off = offs[i]; t->s[j].len = len; t->s[j].val = vals[i];
        uint64_t b1 = (h >> 1) & t->bmask, b2 = bbit2(h) & t->bmask;
        t->bloom[b1 >> 6] |= 1ULL << (b1 & 63); t->bloom[b2 >> 6] |= 1ULL << (b2 & 63);
    }
}

static int t_get(const table_t *t, const char *p, int32_t n) {  /* value or -1 */
    uint64_t h = fnv(p, n), j = h & t->mask;
    uint64_t b1 = (h >> 1) & t->bmask, b2 = bbit2(h) & t->bmask;
    if (!((t->bloom[b1 >> 6] >> (b1 & 63)) & (t->bloom[b2 >> 6] >> (b2 & 63)) & 1)) return -1;
    while (t->s[j].h) {
        if (t->s[j].h == h && t->s[j].len == n && !memcmp(t->data + t->s[j].off, p, n))
            return t->s[j].val;
        j = (j + 1) & t->mask;
    }
    return -1;
}

/* names: val bit0 vague, bit1 pronoun; prefix: val = span */
void *gp_new(const char *nd, const int64_t *no, int64_t nn, const int32_t *nv,
             const char *pd, const int64_t *po, int64_t pn, const int32_t *pv) {
    gp_t *g = calloc(1, sizeof(gp_t));
    t_build(&g->names, nd, no, nn, nv);
    t_build(&g->prefix, pd, po, pn, pv);
    return g;
}

void gp_free(void *h) {
    gp_t *g = h;
    table_t *ts[4] = {&g->names, &g->prefix, &g->words, &g->codes};
    for (int k = 0; k < 4; k++) { free(ts[k]->s); free(ts[k]->data); free(ts[k]->bloom); }
    free(g);
}

static int isal(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
static int isupper_tok(const char *p, int32_t n) {  /* some cased letter, no lower-case one */
    int up = 0;
    for (int32_t i = 0; i < n; i++) { if (p[i] >= 'a' && p[i] <= 'z') return 0; if (p[i] >= 'A' && p[i] <= 'Z') up = 1; }
    return up;
}

/* Name rows: (r, i, sz, s, e, vague, previous token start/end, next token start/end; -1
   where none): names not inside an earlier multi-word match (long texts' first max_m), and
   vague ones (the same "inside" test, no cap). */
static int ukcode(const char *p, int32_t n) {  /* [A-Z]{1,2}[0-9][0-9A-Z]? ; letters count or 0 */
    int32_t a = 0;
    while (a < n && a < 2 && p[a] >= 'A' && p[a] <= 'Z') a++;
    if (a < 1 || a >= n || !(p[a] >= '0' && p[a] <= '9')) return 0;
    if (n - a == 1) return a;
    if (n - a == 2 && ((p[a + 1] >= '0' && p[a + 1] <= '9') || (p[a + 1] >= 'A' && p[a + 1] <= 'Z'))) return a;
    return 0;
}

/* codes: val bit0 us, bit1 ca, bit2 au, bit3 a UK postcode area. names: bit2 has a GB place.
   Code rows (10 int64): r, i, s, e, ps, pe, ns, ne, cc (1 US, 2 CA, 3 AU, 4 GB), score x 10. */
void gp_codes(void *h, const char *cd, const int64_t *co, int64_t cn, const int32_t *cv) {
    gp_t *g = h; t_build(&g->codes, cd, co, cn, cv); g->has_codes = 1;
}

typedef struct { int64_t *out, cap, n, *cout, ccap, nc; } emit_t;

/* One text's mentions and codes: n tokens at byte offsets ts/te of x, their keys at
   low[ls[i]..le[i]) (joined by single spaces), up[i]: the token is all upper case, all_caps:
   the text is. endgb and cover: scratch of n + 1 bytes. */
static void match_text(const gp_t *g, const char *x, int64_t n, const int32_t *ts,
                       const int32_t *te, const char *low, const int32_t *ls, const int32_t *le,
                       const int8_t *up, int all_caps, int64_t row, int64_t max_m,
                       int8_t *endgb, int8_t *cover, emit_t *em) {
    memset(endgb, 0, n + 1); memset(cover, 0, n);
    int64_t reach = -1, kept = 0;  /* reach: last token covered by an earlier multi-word match */
    for (int64_t i = 0; i < n; i++) {
        int64_t best = 0; int vague = 0, v2 = 0;
        int v = t_get(&g->names, low + ls[i], le[i] - ls[i]);
        if (v >= 0 && !((v & 2) && !up[i])) { best = 1; vague = v & 1; v2 = v; }
        if (i + 1 < n) {
            int span = t_get(&g->prefix, low + ls[i], le[i + 1] - ls[i]);
            int64_t top = span < n - i ? span : n - i;
            for (int64_t z = 2; z <= top; z++) {
                int w = t_get(&g->names, low + ls[i], le[i + z - 1] - ls[i]);
                if (w >= 0) { best = z; vague = w & 1; v2 = w; }
            }
        }
        if (!best) continue;
        int inside = i <= reach;
        if (!inside && !(n > 64 && !vague && kept >= max_m)) {
            if (!vague) {
                for (int64_t z = i; z < i + best; z++) cover[z] = 1;
                if (i + best < n) endgb[i + best] = (v2 & 4) ? 2 : 1;
            }
            if (em->n < em->cap) {
                int64_t *o = em->out + 10 * em->n;
                o[0] = row; o[1] = i; o[2] = best; o[3] = ts[i]; o[4] = te[i + best - 1]; o[5] = vague;
                o[6] = i ? ts[i - 1] : -1; o[7] = i ? te[i - 1] : -1;
                o[8] = i + best < n ? ts[i + best] : -1; o[9] = i + best < n ? te[i + best] : -1;
            }
            em->n++;
            if (!vague) kept++;
        }
        if (best > 1 && i + best - 1 > reach) reach = i + best - 1;
    }
    if (!g->has_codes) return;
    int64_t cands = 0;  /* code candidates so far (long texts keep their first max_m) */
    for (int64_t i = 1; i < n; i++) {
        const char *p = x + ts[i]; int32_t tl = te[i] - ts[i];
        int cv = t_get(&g->codes, p, tl); if (cv < 0) cv = 0;
        int us = cv & 1, ca = cv & 2, au = cv & 4, uk = 0;
        if (tl >= 2 && tl <= 4) {
            int a = ukcode(p, tl);
            if (a) { int w = t_get(&g->codes, p, a); if (w > 0 && (w & 8) && endgb[i] == 2) uk = 1; }
        }
        int code = us || ca || au;
        if (!code && !uk) continue;
        /* a token in both branches is two candidate rows (never happens: codes have no digit) */
        cands++;
        if (n > 64 && cands > max_m) break;
        const char *sep = x + te[i - 1]; int64_t sl = ts[i] - te[i - 1];
        int comma = memchr(sep, ',', sl) != NULL;
        int after_zip = 0;
        if (i + 1 < n && te[i + 1] - ts[i + 1] == 5) {
            after_zip = 1; for (int32_t k = ts[i + 1]; k < te[i + 1]; k++) if (!(x[k] >= '0' && x[k] <= '9')) after_zip = 0;
        }
        int32_t pl = te[i - 1] - ts[i - 1]; const char *pt = x + ts[i - 1];
        int pin = (pl == 2 && (pt[0] | 32) == 'i' && (pt[1] | 32) == 'n')
               || (pl == 4 && (pt[0] | 32) == 'f' && (pt[1] | 32) == 'r' && (pt[2] | 32) == 'o' && (pt[3] | 32) == 'm');
        int sp1 = sl == 1 && sep[0] == ' ';
        int after_prep = tl == 2 && sp1 && pin && !all_caps;
        int prev_place = endgb[i] != 0;
        int after_uk_town = uk && (sp1 || (sl == 2 && sep[0] == ',' && sep[1] == ' '));
        int after_place = prev_place && sp1 && !all_caps && (us || ca);
        if (!(comma || after_zip || after_prep || after_place || uk)) continue;
        int cc = 0;
        if (uk) cc = after_uk_town ? 4 : 0;
        else if (us) cc = 1;
        else if (ca && !after_prep) cc = 2;
        else if (au && comma) cc = 3;
        if (!cc || cover[i]) continue;
        if (em->nc < em->ccap) {
            int64_t *o = em->cout + 10 * em->nc;
            o[0] = row; o[1] = i; o[2] = ts[i]; o[3] = te[i]; o[4] = ts[i - 1]; o[5] = te[i - 1];
            o[6] = i + 1 < n ? ts[i + 1] : -1; o[7] = i + 1 < n ? te[i + 1] : -1;
            o[8] = cc; o[9] = (prev_place || after_zip || after_prep) ? 25 : 12;
        }
        em->nc++;
    }
}

static int grow(int64_t need, int64_t *cap, int32_t **a, int32_t **b, int32_t **c, int32_t **d,
                int8_t **e, int8_t **f, int8_t **u) {
    if (need <= *cap) return 0;
    while (*cap < need) *cap *= 2;
    *a = realloc(*a, *cap * 4); *b = realloc(*b, *cap * 4); *c = realloc(*c, *cap * 4);
    *d = realloc(*d, *cap * 4); *e = realloc(*e, *cap); *f = realloc(*f, *cap); *u = realloc(*u, *cap);
    return 1;
}

/* Pure-ASCII texts: tokens ([A-Za-z0-9]+), keys (lower case), then match_text. Returns the
   name rows written to out (10 int64 a row), or -(rows needed) when out_cap is too small;
   *n_codes: the code rows (10 int64 a row, in cout when they fit). */
int64_t gp_parse(void *h, const char *td, const int64_t *to, const int64_t *rows, int64_t nt,
                 int64_t max_m, int64_t *out, int64_t out_cap, int64_t *cout, int64_t cout_cap,
                 int64_t *n_codes) {
    gp_t *g = h;
    emit_t em = {out, out_cap, 0, cout, cout_cap, 0};
    int64_t cap_tok = 256;
    int32_t *ts = malloc(cap_tok * 4), *te = malloc(cap_tok * 4), *ls = malloc(cap_tok * 4), *le = malloc(cap_tok * 4);
    int8_t *endgb = malloc(cap_tok), *cover = malloc(cap_tok), *up = malloc(cap_tok);
    char *low = malloc(1024); int64_t low_cap = 1024;
    for (int64_t t = 0; t < nt; t++) {
        const char *x = td + to[t]; int64_t len = to[t + 1] - to[t];
        int64_t n = 0, lp = 0;
        if (len + 1 > low_cap) { low_cap = len * 2 + 2; low = realloc(low, low_cap); }
        for (int64_t k = 0; k < len;) {
            if (!isal((unsigned char)x[k])) { k++; continue; }
            int64_t b = k; while (k < len && isal((unsigned char)x[k])) k++;
            grow(n + 2, &cap_tok, &ts, &te, &ls, &le, &endgb, &cover, &up);
            ts[n] = (int32_t)b; te[n] = (int32_t)k;
            if (n) low[lp++] = ' ';
            ls[n] = (int32_t)lp;
            for (int64_t c = b; c < k; c++) { char ch = x[c]; low[lp++] = (ch >= 'A' && ch <= 'Z') ? ch + 32 : ch; }
            le[n] = (int32_t)lp;
            up[n] = (int8_t)isupper_tok(x + b, (int32_t)(k - b));
            n++;
        }
        int all_caps = 0;
        { int u = 0, lo = 0; for (int64_t k = 0; k < len; k++) { if (x[k] >= 'a' && x[k] <= 'z') lo = 1; else if (x[k] >= 'A' && x[k] <= 'Z') u = 1; } all_caps = u && !lo; }
        match_text(g, x, n, ts, te, low, ls, le, up, all_caps, rows[t], max_m, endgb, cover, &em);
    }
    *n_codes = em.nc;
    free(endgb); free(cover); free(up);
    free(ts); free(te); free(ls); free(le); free(low);
    return em.n > out_cap ? -em.n : em.n;
}

/* Texts tokenized by SQL (10_tokens.sql: any script): text t's tokens are tk[t]..tk[t+1]-1,
   at byte offsets ts/te of its text, keys (geo_norm) at kd + ko[t] + ls..le, up: each token
   all upper case (geo_isupper), caps: the text is. Then match_text; returns as gp_parse. */
int64_t gp_match(void *h, const char *td, const int64_t *to, const int64_t *rows, int64_t nt,
                 const int64_t *tk, const int32_t *ts, const int32_t *te, const char *kd,
                 const int64_t *ko, const int32_t *ls, const int32_t *le, const int8_t *up,
                 const int8_t *caps, int64_t max_m, int64_t *out, int64_t out_cap, int64_t *cout,
                 int64_t cout_cap, int64_t *n_codes) {
    gp_t *g = h;
    emit_t em = {out, out_cap, 0, cout, cout_cap, 0};
    int64_t most = 1;
    for (int64_t t = 0; t < nt; t++) if (tk[t + 1] - tk[t] + 1 > most) most = tk[t + 1] - tk[t] + 1;
    int8_t *endgb = malloc(most), *cover = malloc(most);
    for (int64_t t = 0; t < nt; t++) {
        int64_t a = tk[t];
        match_text(g, td + to[t], tk[t + 1] - a, ts + a, te + a, kd + ko[t], ls + a, le + a,
                   up + a, caps[t], rows[t], max_m, endgb, cover, &em);
    }
    *n_codes = em.nc;
    free(endgb); free(cover);
    return em.n > out_cap ? -em.n : em.n;
}

/* Caption facts of 10_tokens.sql's g_info for each text: n_words (tokens not starting with a
   digit), n_cap (starting with an upper-case letter), place_cue, listing_cue (a token that is
   such a word: words val bit0 cue, bit1 listing), all_caps (a cased letter, no lower-case
   one), ends_sentence (the last character but trailing spaces is . ! or ?). 6 int64 a text. */
void gp_words(void *h, const char *wd, const int64_t *wo, int64_t wn, const int32_t *wv) {
    gp_t *g = h; t_build(&g->words, wd, wo, wn, wv);
}

void gp_info(void *h, const char *td, const int64_t *to, int64_t nt, int64_t *out) {
    gp_t *g = h;
    char buf[256];
    for (int64_t t = 0; t < nt; t++) {
        const char *x = td + to[t]; int64_t len = to[t + 1] - to[t];
        int64_t nw = 0, nc = 0, cue = 0, lst = 0, up = 0, lo = 0;
        for (int64_t k = 0; k < len;) {
            unsigned char c = (unsigned char)x[k];
            if (c >= 'a' && c <= 'z') lo = 1; else if (c >= 'A' && c <= 'Z') up = 1;
            if (!isal(c)) { k++; continue; }
            int64_t b = k;
            while (k < len && isal((unsigned char)x[k])) {
                unsigned char d = (unsigned char)x[k];
                if (d >= 'a' && d <= 'z') lo = 1; else if (d >= 'A' && d <= 'Z') up = 1;
                k++;
            }
            if (!(x[b] >= '0' && x[b] <= '9')) nw++;
            if (x[b] >= 'A' && x[b] <= 'Z') nc++;
            if (k - b < (int64_t)sizeof buf) {
                for (int64_t c2 = b; c2 < k; c2++) buf[c2 - b] = (x[c2] >= 'A' && x[c2] <= 'Z') ? x[c2] + 32 : x[c2];
                int v = t_get(&g->words, buf, (int32_t)(k - b));
                if (v > 0) { cue |= v & 1; lst |= (v >> 1) & 1; }
            }
        }
        int64_t j = len - 1; while (j >= 0 && x[j] == ' ') j--;
        int64_t *o = out + 6 * t;
        o[0] = nw; o[1] = nc; o[2] = cue; o[3] = lst; o[4] = up && !lo;
        o[5] = j >= 0 && (x[j] == '.' || x[j] == '!' || x[j] == '?');
    }
}

/* Tokens that are a country term's first word (words val bit2): rows (r, s, e, next token
   start, end or -1) for SQL to join with g_cues (k, k1). Returns the rows, or -(needed). */
int64_t gp_cues(void *h, const char *td, const int64_t *to, const int64_t *rows, int64_t nt,
                int64_t *out, int64_t cap) {
    gp_t *g = h;
    char buf[256];
    int64_t n_out = 0;
    for (int64_t t = 0; t < nt; t++) {
        const char *x = td + to[t]; int64_t len = to[t + 1] - to[t];
        int64_t pend = -1, ps = -1;  /* a hit waiting for its next token */
        for (int64_t k = 0; k < len;) {
            if (!isal((unsigned char)x[k])) { k++; continue; }
            int64_t b = k; while (k < len && isal((unsigned char)x[k])) k++;
            if (pend >= 0) {
                if (n_out < cap) { int64_t *o = out + 5 * n_out; o[0] = rows[t]; o[1] = ps; o[2] = pend; o[3] = b; o[4] = k; }
                n_out++; pend = -1;
            }
            if (k - b < (int64_t)sizeof buf) {
                for (int64_t c = b; c < k; c++) buf[c - b] = (x[c] >= 'A' && x[c] <= 'Z') ? x[c] + 32 : x[c];
                int v = t_get(&g->words, buf, (int32_t)(k - b));
                if (v > 0 && (v & 4)) { ps = b; pend = k; }
            }
        }
        if (pend >= 0) {
            if (n_out < cap) { int64_t *o = out + 5 * n_out; o[0] = rows[t]; o[1] = ps; o[2] = pend; o[3] = -1; o[4] = -1; }
            n_out++;
        }
    }
    return n_out > cap ? -n_out : n_out;
}
