-- Understanding v2 (issue 16): a one-line summary per call.
ALTER TABLE calls ADD COLUMN summary VARCHAR;   -- one-line Vietnamese summary built from the extracted facts (pipeline.summary)
