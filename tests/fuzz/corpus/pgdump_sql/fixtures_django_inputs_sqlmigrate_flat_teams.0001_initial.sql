BEGIN;
--
-- Create model Team
--
CREATE TABLE "teams_team" ("id" bigserial NOT NULL PRIMARY KEY, "name" varchar(100) NOT NULL, "slug" varchar(100) NOT NULL UNIQUE, "tag" varchar(8) NOT NULL, "created_at" timestamp with time zone NOT NULL);
--
-- Create model TeamMembership
--
CREATE TABLE "teams_teammembership" ("id" bigserial NOT NULL PRIMARY KEY, "role" varchar(16) NOT NULL, "status" varchar(16) NOT NULL, "joined_at" timestamp with time zone NOT NULL, "profile_id" bigint NOT NULL, "team_id" bigint NOT NULL);
CREATE INDEX "teams_team_slug_301a24e5_like" ON "teams_team" ("slug" varchar_pattern_ops);
ALTER TABLE "teams_teammembership" ADD CONSTRAINT "teams_teammembership_team_id_profile_id_ba617e84_uniq" UNIQUE ("team_id", "profile_id");
ALTER TABLE "teams_teammembership" ADD CONSTRAINT "teams_teammembership_profile_id_4d037faa_fk_user_prof" FOREIGN KEY ("profile_id") REFERENCES "user_profile_userprofile" ("id") DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE "teams_teammembership" ADD CONSTRAINT "teams_teammembership_team_id_2ee7a456_fk_teams_team_id" FOREIGN KEY ("team_id") REFERENCES "teams_team" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "teams_teammembership_status_6a7b20b0" ON "teams_teammembership" ("status");
CREATE INDEX "teams_teammembership_status_6a7b20b0_like" ON "teams_teammembership" ("status" varchar_pattern_ops);
CREATE INDEX "teams_teammembership_profile_id_4d037faa" ON "teams_teammembership" ("profile_id");
CREATE INDEX "teams_teammembership_team_id_2ee7a456" ON "teams_teammembership" ("team_id");
COMMIT;
