BEGIN;
--
-- Create model SkillEndorsement
--
CREATE TABLE "user_profile_skill_endorsement" ("id" bigserial NOT NULL PRIMARY KEY, "match_ref" varchar(64) NOT NULL, "skill_name" varchar(32) NOT NULL, "comment" varchar(280) NOT NULL, "created_at" timestamp with time zone NOT NULL, "ip_address" inet NULL, "is_flagged" boolean NOT NULL, "flag_reason" varchar(200) NOT NULL, "reviewed_at" timestamp with time zone NULL, "endorser_id" bigint NOT NULL, "receiver_id" bigint NOT NULL, "reviewed_by_id" integer NULL);
--
-- Create model EndorsementOpportunity
--
CREATE TABLE "user_profile_endorsement_opportunity" ("id" bigserial NOT NULL PRIMARY KEY, "match_ref" varchar(64) NOT NULL, "expires_at" timestamp with time zone NOT NULL, "is_used" boolean NOT NULL, "used_at" timestamp with time zone NULL, "notified" boolean NOT NULL, "notified_at" timestamp with time zone NULL, "created_at" timestamp with time zone NOT NULL, "player_id" bigint NOT NULL);
--
-- Create index user_profil_receive_a4e8c9_idx on field(s) receiver, -created_at of model skillendorsement
--
CREATE INDEX "user_profil_receive_a4e8c9_idx" ON "user_profile_skill_endorsement" ("receiver_id", "created_at" DESC);
--
-- Create index user_profil_receive_2d9b44_idx on field(s) receiver, skill_name of model skillendorsement
--
CREATE INDEX "user_profil_receive_2d9b44_idx" ON "user_profile_skill_endorsement" ("receiver_id", "skill_name");
--
-- Create index user_profil_is_flag_148abd_idx on field(s) is_flagged, created_at of model skillendorsement
--
CREATE INDEX "user_profil_is_flag_148abd_idx" ON "user_profile_skill_endorsement" ("is_flagged", "created_at");
--
-- Create constraint unique_endorsement_per_match_endorser on model skillendorsement
--
ALTER TABLE "user_profile_skill_endorsement" ADD CONSTRAINT "unique_endorsement_per_match_endorser" UNIQUE ("match_ref", "endorser_id");
--
-- Create constraint no_self_endorsement on model skillendorsement
--
ALTER TABLE "user_profile_skill_endorsement" ADD CONSTRAINT "no_self_endorsement" CHECK (NOT ("endorser_id" = "receiver_id"));
--
-- Create index user_profil_expires_630798_idx on field(s) expires_at, is_used of model endorsementopportunity
--
CREATE INDEX "user_profil_expires_630798_idx" ON "user_profile_endorsement_opportunity" ("expires_at", "is_used");
--
-- Create index user_profil_player__6b9b5a_idx on field(s) player, is_used, expires_at of model endorsementopportunity
--
CREATE INDEX "user_profil_player__6b9b5a_idx" ON "user_profile_endorsement_opportunity" ("player_id", "is_used", "expires_at");
--
-- Alter unique_together for endorsementopportunity (1 constraint(s))
--
ALTER TABLE "user_profile_endorsement_opportunity" ADD CONSTRAINT "user_profile_endorsement_player_id_match_ref_54394f57_uniq" UNIQUE ("player_id", "match_ref");
ALTER TABLE "user_profile_skill_endorsement" ADD CONSTRAINT "user_profile_skill_e_endorser_id_df28d154_fk_user_prof" FOREIGN KEY ("endorser_id") REFERENCES "user_profile_userprofile" ("id") DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE "user_profile_skill_endorsement" ADD CONSTRAINT "user_profile_skill_e_receiver_id_a71dbb04_fk_user_prof" FOREIGN KEY ("receiver_id") REFERENCES "user_profile_userprofile" ("id") DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE "user_profile_skill_endorsement" ADD CONSTRAINT "user_profile_skill_e_reviewed_by_id_059d3a1d_fk_auth_user" FOREIGN KEY ("reviewed_by_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "user_profile_skill_endorsement_skill_name_39e7906f" ON "user_profile_skill_endorsement" ("skill_name");
CREATE INDEX "user_profile_skill_endorsement_skill_name_39e7906f_like" ON "user_profile_skill_endorsement" ("skill_name" varchar_pattern_ops);
CREATE INDEX "user_profile_skill_endorsement_created_at_450df565" ON "user_profile_skill_endorsement" ("created_at");
CREATE INDEX "user_profile_skill_endorsement_endorser_id_df28d154" ON "user_profile_skill_endorsement" ("endorser_id");
CREATE INDEX "user_profile_skill_endorsement_receiver_id_a71dbb04" ON "user_profile_skill_endorsement" ("receiver_id");
CREATE INDEX "user_profile_skill_endorsement_reviewed_by_id_059d3a1d" ON "user_profile_skill_endorsement" ("reviewed_by_id");
ALTER TABLE "user_profile_endorsement_opportunity" ADD CONSTRAINT "user_profile_endorse_player_id_25bcce33_fk_user_prof" FOREIGN KEY ("player_id") REFERENCES "user_profile_userprofile" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "user_profile_endorsement_opportunity_expires_at_005fac76" ON "user_profile_endorsement_opportunity" ("expires_at");
CREATE INDEX "user_profile_endorsement_opportunity_player_id_25bcce33" ON "user_profile_endorsement_opportunity" ("player_id");
COMMIT;
