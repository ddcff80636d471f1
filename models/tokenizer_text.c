/* Byte strings, UTF-8 and GPT-2's byte <-> printable character map for the tokenizer. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

void tk_str_put(tk_str *s, const char *d, size_t n)
{
    if (s->oom) return;
    if (s->n + n + 1 > s->cap) {
        size_t nc = s->cap ? s->cap : 64;
        while (nc < s->n + n + 1) nc *= 2;
        char *np = realloc(s->p, nc);
        if (!np) {
            s->oom = true;
            return;
        }
        s->p = np;
        s->cap = nc;
    }
    if (n) memcpy(s->p + s->n, d, n);
    s->n += n;
    s->p[s->n] = 0;
}

void tk_str_putc(tk_str *s, char c) { tk_str_put(s, &c, 1); }

void tk_str_free(tk_str *s)
{
    free(s->p);
    memset(s, 0, sizeof *s);
}

int tk_utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) len = 2, v = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, v = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, v = c & 0x07, min = 0x10000;
    else return 0;
    if ((size_t)len > n) return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return len;
}

bool tk_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    uint32_t cp;
    while (i < n) {
        int k = tk_utf8_len(p + i, n - i, &cp);
        if (!k) return false;
        i += (size_t)k;
    }
    return true;
}

int tk_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the longest prefix of s that could start a valid sequence ("maximal subpart"),
 * at least 1: Rust replaces each such subpart with one U+FFFD. */
static size_t maximal_subpart(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    int len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 1;
    size_t i = 1;
    if (i < n && s[i] >= lo && s[i] <= hi) i++;
    else return 1;
    while ((int)i < len && i < n && (s[i] & 0xC0) == 0x80) i++;
    return i;
}

void tk_utf8_lossy(tk_str *out, const unsigned char *s, size_t n)
{
    size_t i = 0;
    uint32_t cp;
    while (i < n) {
        int k = tk_utf8_len(s + i, n - i, &cp);
        if (k) {
            tk_str_put(out, (const char *)s + i, (size_t)k);
            i += (size_t)k;
        } else {
            tk_str_put(out, "\xEF\xBF\xBD", 3);
            i += maximal_subpart(s + i, n - i);
        }
    }
}

bool tk_is_whitespace(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

char tk_byte_char[256][3];
uint8_t tk_byte_char_len[256];
static int16_t char_byte[512];
static pthread_once_t byte_map_once = PTHREAD_ONCE_INIT;

static void byte_map_build(void)
{
    /* GPT-2: printable Latin-1 bytes stand for themselves, the rest get 256, 257, ... in order. */
    int next = 256;
    for (int i = 0; i < 512; i++) char_byte[i] = -1;
    for (int b = 0; b < 256; b++) {
        bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        uint32_t cp = printable ? (uint32_t)b : (uint32_t)next++;
        char buf[4];
        int k = tk_utf8_encode(cp, buf);
        memcpy(tk_byte_char[b], buf, (size_t)k);
        tk_byte_char[b][k] = 0;
        tk_byte_char_len[b] = (uint8_t)k;
        char_byte[cp] = (int16_t)b;
    }
}

void tk_byte_map_init(void) { pthread_once(&byte_map_once, byte_map_build); }

int tk_char_byte(uint32_t cp) { return cp < 512 ? char_byte[cp] : -1; }
