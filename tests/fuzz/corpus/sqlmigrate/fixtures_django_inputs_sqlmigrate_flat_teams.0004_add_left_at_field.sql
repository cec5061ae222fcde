BEGIN;
--
-- Add field left_at to teammembership
--
ALTER TABLE "teams_teammembership" ADD COLUMN "left_at" timestamp with time zone NULL;
--
-- Create index teams_member_left_at_idx on field(s) profile, left_at of model teammembership
--
CREATE INDEX "teams_member_left_at_idx" ON "teams_teammembership" ("profile_id", "left_at");
COMMIT;
