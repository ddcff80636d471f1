/* Internal structures of the tokenizer, shared by its files (not a public header).
 *
 * Encode pipeline (as HF tokenizers does it for one sequence):
 *   raw text -> split on non-normalized added tokens -> each other piece: normalize ->
 *   split on normalized added tokens -> pre-tokenize into words -> BPE each word (cached) ->
 *   post-process (template) when add_special.
 * Decode: ids -> token strings (optionally skipping special ones) -> decoder chain -> concat. */
#ifndef SEA_MODELS_TOKENIZER_INTERNAL_H
#define SEA_MODELS_TOKENIZER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "status.h"
#include "tokenizer.h"

/* ---- growable byte string ---- */
typedef struct tk_str {
    char *p;
    size_t n, cap;
    bool oom;
} tk_str;
void tk_str_put(tk_str *s, const char *d, size_t n);
void tk_str_putc(tk_str *s, char c);
void tk_str_free(tk_str *s);

/* ---- UTF-8 ---- */
/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid/truncated. */
int tk_utf8_len(const unsigned char *s, size_t n, uint32_t *cp);
bool tk_utf8_valid(const char *s, size_t n);
int tk_utf8_encode(uint32_t cp, char out[4]);
/* Append s to out, replacing invalid sequences with U+FFFD like Rust's from_utf8_lossy. */
void tk_utf8_lossy(tk_str *out, const unsigned char *s, size_t n);
bool tk_is_whitespace(uint32_t cp); /* Unicode White_Space, as Rust's char::is_whitespace */
bool tk_is_alnum(uint32_t cp);      /* letter or number (for single_word word boundaries) */

/* GPT-2 bytes_to_unicode: byte -> UTF-8 of its printable stand-in, and back. */
extern char tk_byte_char[256][3];   /* NUL-terminated, 1 or 2 bytes */
extern uint8_t tk_byte_char_len[256];
int tk_char_byte(uint32_t cp);      /* -1 when cp is not a stand-in */
void tk_byte_map_init(void);

/* ---- hash maps ---- */
typedef struct tk_strmap {  /* string -> int32 (open addressing, keys borrowed) */
    const char **keys;
    uint32_t *klen;
    int32_t *vals;
    size_t cap, n;
} tk_strmap;
bool tk_strmap_init(tk_strmap *m, size_t expect);
void tk_strmap_free(tk_strmap *m);
bool tk_strmap_put(tk_strmap *m, const char *k, size_t klen, int32_t v); /* false on OOM */
bool tk_strmap_get(const tk_strmap *m, const char *k, size_t klen, int32_t *v);

typedef struct tk_pairmap { /* (a, b) -> (rank, new_id) */
    uint64_t *keys;         /* UINT64_MAX = empty */
    int32_t *rank, *new_id;
    size_t cap, n;
} tk_pairmap;
bool tk_pairmap_init(tk_pairmap *m, size_t expect);
void tk_pairmap_free(tk_pairmap *m);
bool tk_pairmap_put(tk_pairmap *m, int32_t a, int32_t b, int32_t rank, int32_t new_id); /* keeps first */
bool tk_pairmap_get(const tk_pairmap *m, int32_t a, int32_t b, int32_t *rank, int32_t *new_id);

/* ---- normalizers ---- */
typedef enum { TK_NORM_NFC, TK_NORM_NFD, TK_NORM_NFKC, TK_NORM_NFKD, TK_NORM_LOWER, TK_NORM_PREPEND,
               TK_NORM_REPLACE, TK_NORM_STRIP } tk_norm_kind;
typedef struct tk_norm {
    tk_norm_kind kind;
    char *a;          /* prepend: text; replace: literal pattern (when re == NULL) */
    char *b;          /* replace: content */
    pcre2_code *re;   /* replace with a regex */
    bool left, right; /* strip */
} tk_norm;

/* ---- pre-tokenizers ---- */
typedef enum { TK_BEH_REMOVED, TK_BEH_ISOLATED, TK_BEH_MERGED_PREV, TK_BEH_MERGED_NEXT, TK_BEH_CONTIGUOUS } tk_behavior;
typedef enum { TK_PRE_BYTELEVEL, TK_PRE_SPLIT, TK_PRE_METASPACE, TK_PRE_DIGITS, TK_PRE_WHITESPACE,
               TK_PRE_WHITESPACE_SPLIT } tk_pre_kind;
typedef enum { TK_PREPEND_ALWAYS, TK_PREPEND_FIRST, TK_PREPEND_NEVER } tk_prepend;
typedef struct tk_pre {
    tk_pre_kind kind;
    pcre2_code *re;      /* split (regex), bytelevel (use_regex), whitespace */
    char *literal;       /* split with a String pattern */
    size_t literal_len;
    tk_behavior behavior;
    bool invert;
    bool add_prefix_space; /* bytelevel */
    char replacement[8];   /* metaspace, UTF-8 */
    tk_prepend prepend;    /* metaspace */
    bool split;            /* metaspace */
    bool individual;       /* digits */
} tk_pre;

/* A piece of text while pre-tokenizing. `first`: it starts at offset 0 of the input
 * (Metaspace's prepend_scheme "first"). */
typedef struct tk_piece {
    char *s;
    size_t n;
    bool first;
} tk_piece;
typedef struct tk_pieces {
    tk_piece *v;
    size_t n, cap;
    bool oom;
} tk_pieces;
void tk_pieces_push(tk_pieces *p, const char *s, size_t n, bool first);
void tk_pieces_free(tk_pieces *p);

/* ---- decoders ---- */
typedef enum { TK_DEC_BYTELEVEL, TK_DEC_METASPACE, TK_DEC_REPLACE, TK_DEC_BYTEFALLBACK, TK_DEC_FUSE,
               TK_DEC_STRIP, TK_DEC_BPE } tk_dec_kind;
typedef struct tk_dec {
    tk_dec_kind kind;
    char *a, *b;          /* replace: pattern, content; bpe: suffix; metaspace: replacement */
    bool prepend;         /* metaspace: prepend_scheme != never */
    uint32_t strip_char;  /* strip */
    int start, stop;      /* strip */
} tk_dec;

typedef struct tk_added {
    char *content;      /* for normalized tokens followed by NUL and the normalized form */
    size_t len;
    const char *match;  /* what is searched for in the text: content, or its normalized form */
    size_t match_len;
    int32_t id;
    bool special, lstrip, rstrip, normalized, single_word;
} tk_added;

/* Word cache entry (ids of a pre-tokenized word). */
typedef struct tk_cache {
    pthread_mutex_t mu;
    char **keys;
    uint32_t *klen;
    int32_t **ids;
    uint32_t *nids;
    size_t cap, n;
} tk_cache;

struct sea_tokenizer {
    char *name;
    /* model vocab (BPE) */
    char **tokens;        /* [n_tokens] id -> token (NULL for holes) */
    uint32_t *token_len;
    size_t n_tokens;      /* max id + 1 over vocab and added tokens */
    tk_strmap vocab;      /* model vocab only */
    tk_pairmap merges;
    int32_t unk_id;       /* -1 none */
    bool fuse_unk, byte_fallback, ignore_merges;
    char *cont_prefix, *eow_suffix;
    int32_t byte_ids[256]; /* <0xNN> ids, -1 missing */
    bool has_byte_ids;

    tk_added *added;
    size_t n_added;
    uint8_t added_first[256]; /* bit 0: some raw-pass token starts with this byte; bit 1: normalized */
    bool *is_special;      /* [n_tokens] */

    tk_norm *norms;
    size_t n_norms;
    tk_pre *pres;
    size_t n_pres;
    tk_dec *decs;
    size_t n_decs;
    bool has_decoder;

    /* post-processor (single sequence): ids before and after the sequence */
    int32_t *post_pre, *post_post;
    size_t n_post_pre, n_post_post;

    int32_t bos_id, eos_id, pad_id;

    tk_cache cache;
};

/* pieces of the implementation */
sea_status tk_normalize(const sea_tokenizer *t, const char *s, size_t n, tk_str *out);
sea_status tk_pretokenize(const sea_tokenizer *t, const char *s, size_t n, bool first, tk_pieces *out);
sea_status tk_bpe_word(const sea_tokenizer *t, const char *w, size_t n, int32_t **ids, size_t *nids, size_t *cap);
sea_status tk_decode_tokens(const sea_tokenizer *t, char **toks, size_t n, tk_str *out);
void tk_cache_init(tk_cache *c);
void tk_cache_free(tk_cache *c);
/* Append a cached word's ids to *ids (growing it); false on a miss. */
bool tk_cache_get(tk_cache *c, const char *w, size_t n, int32_t **ids, size_t *nids, size_t *cap);
void tk_cache_put(tk_cache *c, const char *w, size_t n, const int32_t *ids, size_t nids);
/* Tokenizer built from parts: finish derived tables (byte ids, special flags, n_tokens). */
sea_status tk_finish(sea_tokenizer *t);
/* Fill added_first from the added tokens' match strings (after they are final). */
void tk_index_added(sea_tokenizer *t);
sea_tokenizer *tk_alloc(const char *name);
/* Compile a regex with UTF+UCP (and JIT when available); message names `what`. */
sea_status tk_regex_compile(const char *pattern, size_t len, const char *name, const char *what, pcre2_code **out);
void tk_free_parts(sea_tokenizer *t);

/* Default regexes. */
extern const char tk_gpt2_pattern[];
extern const char tk_llama3_pattern[];

#endif
