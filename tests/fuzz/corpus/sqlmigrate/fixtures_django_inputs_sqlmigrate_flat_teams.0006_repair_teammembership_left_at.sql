BEGIN;
--
-- Raw SQL operation
--

            -- Repair: Add left_at column if missing (from migration 0004)
            -- Must target public schema explicitly to avoid test_schema drift
            DO $$
            BEGIN
                IF NOT EXISTS (
                    SELECT 1 FROM information_schema.columns
                    WHERE table_schema = 'public'
                      AND table_name = 'teams_teammembership'
                      AND column_name = 'left_at'
                ) THEN
                    ALTER TABLE public.teams_teammembership
                    ADD COLUMN left_at timestamp with time zone NULL;

                    RAISE NOTICE 'Added left_at column to teams_teammembership';
                ELSE
                    RAISE NOTICE 'left_at column already exists, skipping';
                END IF;
            END $$;

            -- Recreate index if missing (originally from migration 0004)
            DO $$
            BEGIN
                IF NOT EXISTS (
                    SELECT 1 FROM pg_indexes
                    WHERE schemaname = 'public'
                      AND tablename = 'teams_teammembership'
                      AND indexname = 'teams_member_left_at_idx'
                ) THEN
                    CREATE INDEX teams_member_left_at_idx
                    ON public.teams_teammembership (profile_id, left_at);

                    RAISE NOTICE 'Created index teams_member_left_at_idx';
                ELSE
                    RAISE NOTICE 'Index teams_member_left_at_idx already exists, skipping';
                END IF;
            END $$;
            ;
COMMIT;
