-- Which topic model tagged each call (issue 31): its fingerprint (models.topic_model.TopicModel.fingerprint,
-- 12 hex digits of the artifact's sha256). `hotline topics retag` re-tags the calls another model tagged;
-- NULL for calls loaded before this migration (retag treats them as tagged by another model).
ALTER TABLE calls ADD COLUMN topic_model VARCHAR;
