-- Reactions keep an exact count and list at most the first 10 names (issue 10). Rows
-- written before listed every name and no count: each emoji gets "count" (the number
-- of names it listed) and keeps its first 10 names, in order. Who reacted is kept in
-- each room's own storage, one row per (message, emoji, claim); D1 mirrors only this
-- bounded summary.
UPDATE messages SET reactions = (
  SELECT json_group_array(json_object(
    'emoji', json_extract(e.value, '$.emoji'),
    'count', json_array_length(e.value, '$.names'),
    'names', json((SELECT json_group_array(n.value) FROM json_each(e.value, '$.names') AS n
              WHERE n.key < 10))))
  FROM json_each(messages.reactions) AS e)
WHERE reactions IS NOT NULL AND json_valid(reactions)
  AND json_extract(reactions, '$[0].count') IS NULL;
