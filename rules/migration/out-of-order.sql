-- id: migration.out-of-order
-- severity: warning
-- title: A migration is recorded before one of its dependencies
-- rationale: Django applies a migration only after its dependencies; a record that comes first (or a dependency never recorded) means history was written by hand, faked piecemeal, or merged from two branches -- Django raises InconsistentMigrationHistory on the next migrate.
-- remedy: Record the dependency (if its schema exists) or apply it, in the order Django expects; check the schema of both.
WITH deps AS (
  SELECT d.app, d.name, d.artifact_id, d.line, d.dep_app,
         CASE d.dep_name
           WHEN '__first__' THEN (SELECT min(m.name) FROM migration m WHERE m.app = d.dep_app)
           WHEN '__latest__' THEN (SELECT max(m.name) FROM migration m WHERE m.app = d.dep_app)
           ELSE d.dep_name END AS dep_name
    FROM migration_dependency d)
SELECT m.app || '.' || m.name AS migration,
       CASE WHEN dr.position IS NULL
            THEN printf('migration %s.%s is recorded as applied, but its dependency %s.%s is not',
                        m.app, m.name, deps.dep_app, deps.dep_name)
            ELSE printf('migration %s.%s is recorded (position %d%s) before its dependency %s.%s (position %d%s)',
                        m.app, m.name, m.position, coalesce(', ' || m.applied_at, ''),
                        deps.dep_app, deps.dep_name, dr.position, coalesce(', ' || dr.applied_at, ''))
       END AS message,
       json_array(
         json_object('artifact', ra.path, 'line', m.line,
                     'text', 'recorded as applied' || coalesce(' at ' || m.applied_at, '')),
         json_object('artifact', da.path, 'line', deps.line,
                     'text', printf('dependencies: (%s, %s)', quote(deps.dep_app), quote(deps.dep_name)))) AS evidence,
       'out-of-order' AS cause_key
  FROM recorded_migration m
  JOIN deps ON deps.app = m.app AND deps.name = m.name AND deps.dep_name IS NOT NULL
  LEFT JOIN recorded_migration dr ON dr.app = deps.dep_app AND dr.name = deps.dep_name
  JOIN artifact ra ON ra.id = m.artifact_id
  JOIN artifact da ON da.id = deps.artifact_id
 WHERE ((dr.position IS NULL AND EXISTS (SELECT 1 FROM migration k WHERE k.app = deps.dep_app
                                          AND k.name = deps.dep_name))
        OR (dr.position > m.position
            -- showmigrations prints no order of recording (--list groups by app, --plan is
            -- Django's own plan) and its times (verbosity 2) are whole seconds: records only
            -- its lines order, or whose times are equal, are in no known order
            AND NOT ((m.applied_at IS NULL OR dr.applied_at IS NULL OR m.applied_at = dr.applied_at)
                     AND (m.record_id IS NULL OR dr.record_id IS NULL)
                     AND EXISTS (SELECT 1 FROM migration_record x
                                  WHERE x.source = 'showmigrations'
                                    AND ((x.artifact_id = m.artifact_id AND x.line IS m.line)
                                         OR (x.artifact_id = dr.artifact_id AND x.line IS dr.line))))))
   -- A squashed migration stands for the ones it replaces, and they for it: `migrate` records
   -- the replaced ones as it applies them and the squash's own row last, after every later
   -- migration of the run (Django's consistency check skips a squash whose replaced
   -- migrations are all applied). The dependency is met when the other side is recorded first.
   AND NOT EXISTS (
         SELECT 1 FROM migration s
          WHERE s.app = deps.dep_app AND s.name = deps.dep_name AND s.replaces IS NOT NULL
            AND NOT EXISTS (
                  SELECT 1 FROM json_each('["' || replace(s.replaces, ', ', '","') || '"]') rep
                   WHERE NOT EXISTS (SELECT 1 FROM recorded_migration r
                                      WHERE r.app || '.' || r.name = rep.value
                                        AND r.position < m.position)))
   AND NOT EXISTS (
         SELECT 1 FROM migration s
           JOIN recorded_migration sr ON sr.app = s.app AND sr.name = s.name
          WHERE s.replaces IS NOT NULL AND sr.position < m.position
            AND (', ' || s.replaces || ', ') LIKE '%, ' || deps.dep_app || '.' || deps.dep_name || ', %')
