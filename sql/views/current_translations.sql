-- current_translations: the English text of every caption for geoparsing the translated way
-- (geoparse --set source=translations): the translate stage's current rows, plus the captions
-- already in English passed through unchanged (model NULL, src_lang 'eng_Latn').
-- grain: one row per (caption_id)
CREATE OR REPLACE VIEW current_translations AS
SELECT t.caption_id, t.text_en, t.src_lang, t.model, t.config_key
FROM translations t
JOIN stage_current s ON s.stage = 'translate' AND s.config_key = t.config_key
WHERE t.text_en IS NOT NULL
UNION ALL
SELECT c.caption_id, c.text AS text_en, 'eng_Latn' AS src_lang, NULL AS model,
       NULL AS config_key
FROM captions c JOIN caption_language l USING (caption_id)
WHERE l.language = 'en';
