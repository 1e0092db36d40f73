-- A file sent with a message: its metadata as JSON, {"id", "filename", "content_type",
-- "size"}; the bytes are in R2 under "<room>/<id>". NULL without a file, and again once
-- the message is deleted (the object is deleted with it).
ALTER TABLE messages ADD COLUMN attachment TEXT;
