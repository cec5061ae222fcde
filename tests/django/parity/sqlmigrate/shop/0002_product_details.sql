BEGIN;
--
-- Add field weight to product
--
ALTER TABLE "shop_product" ADD COLUMN "weight" double precision DEFAULT 1.5 NOT NULL;
ALTER TABLE "shop_product" ALTER COLUMN "weight" DROP DEFAULT;
--
-- Add field code to product
--
ALTER TABLE "shop_product" ADD COLUMN "code" uuid NULL;
--
-- Add field data to product
--
ALTER TABLE "shop_product" ADD COLUMN "data" jsonb DEFAULT '{}' NOT NULL;
ALTER TABLE "shop_product" ALTER COLUMN "data" DROP DEFAULT;
--
-- Add field options to product
--
ALTER TABLE "shop_product" ADD COLUMN "options" jsonb DEFAULT '{"colours": ["red", "gr\u00fcn"], "size": 3, "ok": true, "x": null}' NOT NULL;
ALTER TABLE "shop_product" ALTER COLUMN "options" DROP DEFAULT;
--
-- Add field rating to product
--
ALTER TABLE "shop_product" ADD COLUMN "rating" smallint DEFAULT  -1 NOT NULL;
ALTER TABLE "shop_product" ALTER COLUMN "rating" DROP DEFAULT;
--
-- Add field released to product
--
ALTER TABLE "shop_product" ADD COLUMN "released" date DEFAULT '2020-01-31'::date NOT NULL;
ALTER TABLE "shop_product" ALTER COLUMN "released" DROP DEFAULT;
--
-- Add field note to product
--
ALTER TABLE "shop_product" ADD COLUMN "note" text DEFAULT '' NOT NULL;
ALTER TABLE "shop_product" ALTER COLUMN "note" DROP DEFAULT;
--
-- Add field motto to product
--
ALTER TABLE "shop_product" ADD COLUMN "motto" varchar(40) DEFAULT 'it''s 100%% \ done' NOT NULL;
ALTER TABLE "shop_product" ALTER COLUMN "motto" DROP DEFAULT;
--
-- Add field is_active to product
--
ALTER TABLE "shop_product" ADD COLUMN "is_active" boolean DEFAULT true NOT NULL;
ALTER TABLE "shop_product" ALTER COLUMN "is_active" DROP DEFAULT;
--
-- Add field discount to product
--
ALTER TABLE "shop_product" ADD COLUMN "discount" numeric(5, 2) NULL;
--
-- Add field ratio to product
--
ALTER TABLE "shop_product" ADD COLUMN "ratio" numeric(6, 3) DEFAULT 1.5 NOT NULL;
ALTER TABLE "shop_product" ALTER COLUMN "ratio" DROP DEFAULT;
--
-- Add field shelf_life to product
--
ALTER TABLE "shop_product" ADD COLUMN "shelf_life" interval DEFAULT '2 days 10800.000000 seconds'::interval NOT NULL;
ALTER TABLE "shop_product" ALTER COLUMN "shelf_life" DROP DEFAULT;
--
-- Create index shop_produc_price_1c2d3e_idx on field(s) -price, title of model product
--
CREATE INDEX "shop_produc_price_1c2d3e_idx" ON "shop_product" ("price" DESC, "title");
--
-- Create index shop_sku_active_idx on field(s) sku of model product
--
CREATE INDEX "shop_sku_active_idx" ON "shop_product" ("sku") WHERE "is_active";
--
-- Create constraint price_stock_check on model product
--
ALTER TABLE "shop_product" ADD CONSTRAINT "price_stock_check" CHECK (("price" >= 0 AND "stock" <= 100000));
--
-- Create constraint rating_or_note on model product
--
ALTER TABLE "shop_product" ADD CONSTRAINT "rating_or_note" CHECK (("rating" IN ( -1, 1, 2, 3) OR "note"::text LIKE 'x%%'));
--
-- Create constraint uniq_active_title on model product
--
CREATE UNIQUE INDEX "uniq_active_title" ON "shop_product" ("title") WHERE "is_active";
--
-- Create constraint uniq_sku_category on model product
--
ALTER TABLE "shop_product" ADD CONSTRAINT "uniq_sku_category" UNIQUE ("sku", "category_id") DEFERRABLE INITIALLY DEFERRED;
COMMIT;
