BEGIN;
--
-- Alter field qty on stock
--
ALTER TABLE "inventory_stock" ALTER COLUMN "qty" TYPE bigint USING "qty"::bigint;
--
-- Alter field warehouse on stock
--
ALTER TABLE "inventory_stock" ADD CONSTRAINT "inventory_stock_warehouse_ded438d7_uniq" UNIQUE ("warehouse");
CREATE INDEX "inventory_stock_warehouse_ded438d7_like" ON "inventory_stock" ("warehouse" varchar_pattern_ops);
--
-- Alter field note on stock
--
ALTER TABLE "inventory_stock" ALTER COLUMN "note" SET DEFAULT '';
UPDATE "inventory_stock" SET "note" = '' WHERE "note" IS NULL;
ALTER TABLE "inventory_stock" ALTER COLUMN "note" SET NOT NULL;
ALTER TABLE "inventory_stock" ALTER COLUMN "note" DROP DEFAULT;
--
-- Rename field home on stock to origin
--
SET CONSTRAINTS "inventory_stock_home_id_6082378d_fk" IMMEDIATE; ALTER TABLE "inventory_stock" DROP CONSTRAINT "inventory_stock_home_id_6082378d_fk";
ALTER TABLE "inventory_stock" RENAME COLUMN "home_id" TO "origin_id";
ALTER TABLE "inventory_stock" ADD CONSTRAINT "inventory_stock_origin_id_999dbae0_fk_shop_categories_id" FOREIGN KEY ("origin_id") REFERENCES "shop_categories" ("id") DEFERRABLE INITIALLY DEFERRED;
COMMIT;
