/* Hugging Face tokenizer.json (BPE models) for encode and decode.
 *
 * Supported, matching the `tokenizers` library's behaviour on these pieces:
 *   added_tokens   matched in the raw text first (longest match; lstrip/rstrip; special flag);
 *                  non-special added tokens with normalized=true are matched after normalization
 *   normalizer     null, NFC, NFD, NFKC, NFKD (utf8proc), Lowercase, Prepend, Replace, Strip, Sequence
 *   pre_tokenizer  null, ByteLevel (add_prefix_space, use_regex), Split (Regex/String pattern,
 *                  behavior Isolated/Removed/MergedWithPrevious/MergedWithNext/Contiguous, invert),
 *                  Metaspace (replacement, prepend_scheme), Digits, Whitespace(Split), Sequence;
 *                  regexes run with PCRE2 (UTF + UCP) so \p{L} etc. behave as in Rust's regex
 *   model          BPE: vocab, merges ("a b" or ["a", "b"]), ignore_merges, byte_fallback
 *                  (<0xNN>), unk_token, fuse_unk, continuing_subword_prefix, end_of_word_suffix
 *   post_processor TemplateProcessing / ByteLevel / RobertaProcessing / BertProcessing / Sequence
 *                  (single-sequence template only) when add_special is true
 *   decoder        ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, BPEDecoder, Sequence
 * Anything else is rejected at load time with a message naming the component, so a file that
 * loads encodes as HF does.
 *
 * Encoding is thread-safe (a per-tokenizer word cache is guarded internally). */
#ifndef SEA_MODELS_TOKENIZER_H
#define SEA_MODELS_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_tokenizer sea_tokenizer;
struct sea_gguf;

/* `path` is a tokenizer.json or a directory containing one. From a directory (or the file's
 * directory), tokenizer_config.json supplies bos/eos/pad token strings when present. */
sea_status sea_tokenizer_load(const char *path, sea_tokenizer **out);
/* From tokenizer.json text (`name` is used in messages). Used by the fuzzer and tests. */
sea_status sea_tokenizer_load_json(const char *json, size_t len, const char *name,
                                   sea_tokenizer **out);
/* From GGUF metadata: tokenizer.ggml.model "gpt2" (byte-level BPE with GPT-2's regex, or
 * Llama-3's when tokenizer.ggml.pre is "llama-bpe"/"llama3"/"smaug-bpe"; other pre-tokenizer
 * names are refused with SEA_ERR_UNSUPPORTED) or "llama" (SentencePiece-style BPE with byte
 * fallback; merges derived from scores when the file has no merges). */
sea_status sea_tokenizer_from_gguf(const struct sea_gguf *g, sea_tokenizer **out);
void sea_tokenizer_free(sea_tokenizer *tok); /* NULL is fine */

/* Encode `len` bytes of UTF-8 (invalid UTF-8 is an error). add_special applies the
 * post_processor (e.g. Llama's leading <s> / <|begin_of_text|>), like HF's add_special_tokens.
 * *ids is malloc'ed (free() it); *n may be 0 (then *ids may be NULL). */
sea_status sea_tokenizer_encode(const sea_tokenizer *tok, const char *text, size_t len,
                                bool add_special, int32_t **ids, size_t *n);
/* Decode ids to UTF-8 (malloc'ed, NUL-terminated). skip_special drops special added tokens.
 * Invalid UTF-8 produced by byte tokens is replaced by U+FFFD, as HF does. Out-of-range ids
 * are an error. */
sea_status sea_tokenizer_decode(const sea_tokenizer *tok, const int32_t *ids, size_t n,
                                bool skip_special, char **text);

/* Largest id + 1 over the model vocab and added tokens (HF's len(tokenizer)). */
size_t sea_tokenizer_vocab_size(const sea_tokenizer *tok);
int32_t sea_tokenizer_token_to_id(const sea_tokenizer *tok, const char *token); /* -1 absent */
const char *sea_tokenizer_id_to_token(const sea_tokenizer *tok, int32_t id);   /* NULL absent */
bool sea_tokenizer_is_special(const sea_tokenizer *tok, int32_t id);
/* Special ids; -1 when the tokenizer has none. bos comes from the post_processor template or
 * tokenizer_config.json; eos from tokenizer_config.json, else a well-known end token present in
 * the vocab (</s>, <|endoftext|>, <|end_of_text|>, <|eot_id|>). */
int32_t sea_tokenizer_bos_id(const sea_tokenizer *tok);
int32_t sea_tokenizer_eos_id(const sea_tokenizer *tok);
int32_t sea_tokenizer_pad_id(const sea_tokenizer *tok);
/* Override (e.g. from sea_hf_config ids); -1 clears. */
void sea_tokenizer_set_special_ids(sea_tokenizer *tok, int32_t bos, int32_t eos, int32_t pad);

#ifdef __cplusplus
}
#endif
#endif
