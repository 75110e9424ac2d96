/*
 * kokoro_files.c — what `chorus models pull kokoro` installs (core/models.c reads this through
 * the descriptor): the published weights, config and voice packs, pinned to one revision of
 * hexgrad/Kokoro-82M, and misaki's English lexicons for the G2P, pinned to one commit of
 * hexgrad/misaki; every file with its SHA-256.
 */
#include <stddef.h>

#include "core/backend.h"

static const char *const model_files[] = {"config.json", "kokoro-v1_0.pth", NULL};
/* misaki's lexicons (Apache-2.0), commit fba1236 of hexgrad/misaki (2025-08-10) */
static const char *const misaki_files[] = {"us_gold.json", "us_silver.json", "gb_gold.json",
                                           "gb_silver.json", NULL};

static const struct chorus_model_fileset sets[] = {
    {"", NULL, model_files},
    {"misaki",
     "https://raw.githubusercontent.com/hexgrad/misaki/fba1236595f2d2bf21d414ba6e57d25256afada3/misaki/data/",
     misaki_files},
    {NULL, NULL, NULL}};

static const char *const default_voices[] = {"af_heart", "af_bella", "am_michael", "am_fenrir",
                                             "bf_emma", NULL};
static const char *const all_voices[] = {
    "af_heart", "af_alloy", "af_aoede", "af_bella", "af_jessica", "af_kore", "af_nicole", "af_nova",
    "af_river", "af_sarah", "af_sky", "am_adam", "am_echo", "am_eric", "am_fenrir", "am_liam",
    "am_michael", "am_onyx", "am_puck", "am_santa", "bf_alice", "bf_emma", "bf_isabella", "bf_lily",
    "bm_daniel", "bm_fable", "bm_george", "bm_lewis", "jf_alpha", "jf_gongitsune", "jf_nezumi",
    "jf_tebukuro", "jm_kumo", "zf_xiaobei", "zf_xiaoni", "zf_xiaoxiao", "zf_xiaoyi", "zm_yunjian",
    "zm_yunxi", "zm_yunxia", "zm_yunyang", "ef_dora", "em_alex", "em_santa", "ff_siwis", "hf_alpha",
    "hf_beta", "hm_omega", "hm_psi", "if_sara", "im_nicola", "pf_dora", "pm_alex", "pm_santa", NULL};

extern const struct chorus_model_desc chorus_kokoro_model;

static const char *const sha256[][2] = {
    {"config.json",
     "5abb01e2403b072bf03d04fde160443e209d7a0dad49a423be15196b9b43c17f"},
    {"kokoro-v1_0.pth",
     "496dba118d1a58f5f3db2efc88dbdc216e0483fc89fe6e47ee1f2c53f18ad1e4"},
    {"voices/af_heart.pt",
     "0ab5709b8ffab19bfd849cd11d98f75b60af7733253ad0d67b12382a102cb4ff"},
    {"voices/af_bella.pt",
     "8cb64e02fcc8de0327a8e13817e49c76c945ecf0052ceac97d3081480e8e48d6"},
    {"voices/am_michael.pt",
     "9a443b79a4b22489a5b0ab7c651a0bcd1a30bef675c28333f06971abbd47bd37"},
    {"voices/am_fenrir.pt",
     "98e507eca1db08230ae3b6232d59c10aec9630022d19accac4f5d12fcec3c37a"},
    {"voices/bf_emma.pt",
     "d0a423deabf4a52b4f49318c51742c54e21bb89bbbe9a12141e7758ddb5da701"},
    {"voices/jf_alpha.pt",
     "1bf4c9dc69e45ee46183b071f4db766349aac5592acbcfeaf051018048a5d787"},
    {"voices/jf_gongitsune.pt",
     "1b171917f18f351e65f2bf9657700cd6bfec4e65589c297525b9cf3c20105770"},
    {"voices/jf_nezumi.pt",
     "d83f007a7f01783b77014561a7d493d327a0210e143440e91c9b697590d27661"},
    {"voices/jf_tebukuro.pt",
     "0d6917904438aec85f73a6fa1f7ac2be6481aae47c697834936930a91796c576"},
    {"voices/jm_kumo.pt",
     "98340afd68b1cee84fe0cd95528cfa6d4b39e416aa75a9df64049d52c8b55896"},
    {"misaki/us_gold.json",
     "dc414872a49a28ae6c141463d502fd945f3b2fde040484fdc47d00cc4612686f"},
    {"misaki/us_silver.json",
     "de8f67be911bb6c659187b4a65fd966b6a30e56350e0f790d763210b053ac475"},
    {"misaki/gb_gold.json",
     "29e62f4b60261c88f7f3c2c7811ca3825978948090b72d2b27d565b729282f71"},
    {"misaki/gb_silver.json",
     "48131e2d92ccc41655f4543e87e0f938e71463eb5a54be7f0693bb712ebb6bce"},
    {NULL, NULL}};

const struct chorus_model_desc chorus_kokoro_model = {
    .base_url = "https://huggingface.co/hexgrad/Kokoro-82M/resolve/f3ff3571791e39611d31c381e3a41a3af07b4987",
    .sets = sets,
    .voice_subdir = "voices",
    .voice_ext = ".pt",
    .default_voices = default_voices,
    .all_voices = all_voices,
    .sha256 = sha256,
};
