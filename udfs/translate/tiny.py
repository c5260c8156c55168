"""A tiny random-weight NLLB model built offline, for tests and `geosql bench translate`.

No NLLB weights or sentencepiece model ship offline: a ~120-piece unigram sentencepiece model is
trained on a few sentences, saved as `sentencepiece.bpe.model`, loaded by `NllbTokenizer` with
the FAIRSEQ language codes, and an M2M100 model with d_model 32 and one layer each is saved
beside it. Its translations are noise; the generate path is the real one.
"""

from __future__ import annotations

import io
from pathlib import Path

SENTENCES = [
    "Atardecer en la playa de Barcelona",
    "Vista de la Ciudad de México",
    "Ηλιοβασίλεμα στη Σαντορίνη",
    "Η Ακρόπολη της Αθήνας",
    "दिल्ली में लाल किला",
    "पेरिस में एफिल टॉवर",
    "東京タワーの夜景",
    "パリのエッフェル塔",
    "Sunset over the beach in Barcelona",
    "The Acropolis of Athens at night",
]


def build_tiny_nllb(folder: Path) -> Path:
    """A random-weight M2M100 model with an NLLB tokenizer (a 120-piece unigram
    sentencepiece model trained on the fly), saved as a folder `from_pretrained` loads."""
    import sentencepiece as spm
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES

    folder.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(SENTENCES * 20),
        model_writer=buf,
        vocab_size=120,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        unk_id=0,
        bos_id=-1,
        eos_id=-1,
        pad_id=-1,
    )
    (folder / "sentencepiece.bpe.model").write_bytes(buf.getvalue())
    tok = NllbTokenizer.from_pretrained(
        str(folder),
        src_lang="spa_Latn",
        tgt_lang="eng_Latn",
        additional_special_tokens=FAIRSEQ_LANGUAGE_CODES,
    )
    torch.manual_seed(0)
    cfg = M2M100Config(
        vocab_size=len(tok),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=128,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.eos_token_id,
    )
    model = M2M100ForConditionalGeneration(cfg)
    model.save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    return folder
