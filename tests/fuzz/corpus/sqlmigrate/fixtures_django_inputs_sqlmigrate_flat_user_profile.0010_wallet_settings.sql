BEGIN;
--
-- Create model WalletSettings
--
CREATE TABLE "user_profile_wallet_settings" ("id" bigserial NOT NULL PRIMARY KEY, "payout_method" varchar(20) NOT NULL, "payout_email" varchar(254) NOT NULL, "iban" varchar(34) NOT NULL, "min_payout_amount" numeric(10, 2) NOT NULL, "withdrawal_pin_hash" varchar(128) NOT NULL, "updated_at" timestamp with time zone NOT NULL, "user_profile_id" bigint NOT NULL UNIQUE);
--
-- Create constraint wallet_min_payout_non_negative on model walletsettings
--
ALTER TABLE "user_profile_wallet_settings" ADD CONSTRAINT "wallet_min_payout_non_negative" CHECK ("min_payout_amount" >= 0);
ALTER TABLE "user_profile_wallet_settings" ADD CONSTRAINT "user_profile_wallet__user_profile_id_3a7d7c5d_fk_user_prof" FOREIGN KEY ("user_profile_id") REFERENCES "user_profile_userprofile" ("id") DEFERRABLE INITIALLY DEFERRED;
COMMIT;
