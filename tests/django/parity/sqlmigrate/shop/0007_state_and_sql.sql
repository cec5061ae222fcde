BEGIN;
--
-- Custom state/database change combination
--

ALTER TABLE shop_product ADD COLUMN legacy_ref integer NULL;
CREATE INDEX shop_product_legacy_ref_idx ON shop_product (legacy_ref);
;
--
-- Raw SQL operation
--
COMMENT ON TABLE shop_product IS 'products (café)';
--
-- Create model Variant
--
CREATE TABLE "shop_variant" ("id" serial NOT NULL PRIMARY KEY, "label" varchar(30) NOT NULL, "product_id" integer NOT NULL, "_order" integer NOT NULL);
--
-- Set order_with_respect_to on variant to None
--
ALTER TABLE "shop_variant" DROP COLUMN "_order" CASCADE;
--
-- Add field kind to variant
--
ALTER TABLE "shop_variant" ADD COLUMN "kind" varchar(10) DEFAULT 'std' NOT NULL;
ALTER TABLE "shop_variant" ALTER COLUMN "kind" DROP DEFAULT;
--
-- Alter field is_active on product
--
ALTER TABLE "shop_product" ALTER COLUMN "is_active" DROP NOT NULL;
--
-- MIGRATION NOW PERFORMS OPERATION THAT CANNOT BE WRITTEN AS SQL:
-- Raw Python operation
--
ALTER TABLE "shop_variant" ADD CONSTRAINT "shop_variant_product_id_ab80580a_fk_shop_product_id" FOREIGN KEY ("product_id") REFERENCES "shop_product" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "shop_variant_product_id_ab80580a" ON "shop_variant" ("product_id");
CREATE INDEX "shop_variant_kind_c086afa0" ON "shop_variant" ("kind");
CREATE INDEX "shop_variant_kind_c086afa0_like" ON "shop_variant" ("kind" varchar_pattern_ops);
COMMIT;
