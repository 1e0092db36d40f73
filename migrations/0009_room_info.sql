-- Rooms made on purpose (POST /api/rooms): a title, a description and a visibility (a
-- private room is never listed). For the room list: how many names are connected now
-- (kept by each room), and who wrote the newest message and how it begins.
ALTER TABLE rooms ADD COLUMN title TEXT;
ALTER TABLE rooms ADD COLUMN description TEXT;
ALTER TABLE rooms ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public';
ALTER TABLE rooms ADD COLUMN created_by TEXT;
ALTER TABLE rooms ADD COLUMN online INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN last_name TEXT;
ALTER TABLE rooms ADD COLUMN last_text TEXT;
