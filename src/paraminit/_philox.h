/* Philox-4x64-10 (Salmon et al. 2011, Random123), as numpy's Philox draws it
 * (included by _native.c, after Python.h).
 *
 * The small-array path of engine/blocks.py draws from numpy's Philox keyed by the
 * 128-bit seed at counter 0; this is the same function, so a small array is one
 * compiled call with no bit generator and no state dict. configure_small() checks
 * it word for word against numpy's own Philox before enabling it.
 */
#ifndef PARAMINIT_PHILOX_H
#define PARAMINIT_PHILOX_H

#define PHILOX_M0 0xD2E7470EE14C6C93ULL
#define PHILOX_M1 0xCA5A826395121157ULL
#define PHILOX_W0 0x9E3779B97F4A7C15ULL /* the golden ratio */
#define PHILOX_W1 0xBB67AE8584CAA73BULL /* sqrt(3) - 1 */

typedef struct {
    uint64_t key[2], ctr[4], buffer[4];
    int pos;
} Philox;

static inline uint64_t mulhilo64(uint64_t a, uint64_t b, uint64_t *hi)
{
#if defined(__SIZEOF_INT128__)
    unsigned __int128 product = (unsigned __int128)a * b;
    *hi = (uint64_t)(product >> 64);
    return (uint64_t)product;
#else
    uint64_t a_lo = a & 0xFFFFFFFFu, a_hi = a >> 32, b_lo = b & 0xFFFFFFFFu, b_hi = b >> 32;
    uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
    uint64_t mid = (ll >> 32) + (lh & 0xFFFFFFFFu) + (hl & 0xFFFFFFFFu);
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return (ll & 0xFFFFFFFFu) | (mid << 32);
#endif
}

#define PHILOX_ROUND(k0, k1)                                                                                   \
    do {                                                                                                       \
        uint64_t hi0, hi1, lo0 = mulhilo64(PHILOX_M0, c0, &hi0), lo1 = mulhilo64(PHILOX_M1, c2, &hi1);         \
        c0 = hi1 ^ c1 ^ (k0);                                                                                  \
        c1 = lo1;                                                                                              \
        c2 = hi0 ^ c3 ^ (k1);                                                                                  \
        c3 = lo0;                                                                                              \
    } while (0)

/* Ten rounds on the counter, the key bumped by (W0, W1) before each after the first;
 * written out, as a loop -O2 leaves rolled and ~2x slower. */
static inline void philox_block(const uint64_t *ctr_in, const uint64_t *key, uint64_t *out)
{
    uint64_t c0 = ctr_in[0], c1 = ctr_in[1], c2 = ctr_in[2], c3 = ctr_in[3], k0 = key[0], k1 = key[1];
    PHILOX_ROUND(k0, k1);
    PHILOX_ROUND(k0 + 1 * PHILOX_W0, k1 + 1 * PHILOX_W1);
    PHILOX_ROUND(k0 + 2 * PHILOX_W0, k1 + 2 * PHILOX_W1);
    PHILOX_ROUND(k0 + 3 * PHILOX_W0, k1 + 3 * PHILOX_W1);
    PHILOX_ROUND(k0 + 4 * PHILOX_W0, k1 + 4 * PHILOX_W1);
    PHILOX_ROUND(k0 + 5 * PHILOX_W0, k1 + 5 * PHILOX_W1);
    PHILOX_ROUND(k0 + 6 * PHILOX_W0, k1 + 6 * PHILOX_W1);
    PHILOX_ROUND(k0 + 7 * PHILOX_W0, k1 + 7 * PHILOX_W1);
    PHILOX_ROUND(k0 + 8 * PHILOX_W0, k1 + 8 * PHILOX_W1);
    PHILOX_ROUND(k0 + 9 * PHILOX_W0, k1 + 9 * PHILOX_W1);
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* Keyed by the 128-bit seed (low word first), counter 0, buffer empty: the state
 * blocks.fill's small path gives numpy's Philox. */
static void philox_init(Philox *p, uint64_t key_lo, uint64_t key_hi)
{
    p->key[0] = key_lo;
    p->key[1] = key_hi;
    p->ctr[0] = p->ctr[1] = p->ctr[2] = p->ctr[3] = 0;
    p->pos = 4;
}

/* numpy's philox_next: the counter is incremented (with carry) before each block. */
static inline uint64_t philox_next(Philox *p)
{
    if (p->pos == 4) {
        if (++p->ctr[0] == 0 && ++p->ctr[1] == 0 && ++p->ctr[2] == 0) {
            ++p->ctr[3];
        }
        philox_block(p->ctr, p->key, p->buffer);
        p->pos = 0;
    }
    return p->buffer[p->pos++];
}

static uint64_t philox_raw(void *state)
{
    return philox_next((Philox *)state);
}

#endif /* PARAMINIT_PHILOX_H */
