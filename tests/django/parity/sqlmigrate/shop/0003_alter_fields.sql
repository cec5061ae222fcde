BEGIN;
--
-- Alter field sku on product
--
ALTER TABLE "shop_product" ALTER COLUMN "sku" TYPE varchar(64);
--
-- Alter field title on product
--
ALTER TABLE "shop_product" ALTER COLUMN "title" TYPE text USING "title"::text;
CREATE INDEX "shop_product_title_312cda19" ON "shop_product" ("title");
CREATE INDEX "shop_product_title_312cda19_like" ON "shop_product" ("title" text_pattern_ops);
--
-- Alter field name on category
--
ALTER TABLE "shop_category" DROP CONSTRAINT "shop_category_name_key";
CREATE INDEX "shop_category_name_11b68823" ON "shop_category" ("name");
--
-- Alter field slug on category
--
DROP INDEX IF EXISTS "shop_category_slug_4508178e";
DROP INDEX IF EXISTS "shop_category_slug_4508178e_like";
ALTER TABLE "shop_category" ADD CONSTRAINT "shop_category_slug_4508178e_uniq" UNIQUE ("slug");
CREATE INDEX "shop_category_slug_4508178e_like" ON "shop_category" ("slug" varchar_pattern_ops);
--
-- Alter field discount on product
--
ALTER TABLE "shop_product" ALTER COLUMN "discount" SET DEFAULT 0;
UPDATE "shop_product" SET "discount" = 0 WHERE "discount" IS NULL;
ALTER TABLE "shop_product" ALTER COLUMN "discount" SET NOT NULL;
ALTER TABLE "shop_product" ALTER COLUMN "discount" DROP DEFAULT;
--
-- Alter field category on product
--
SET CONSTRAINTS "shop_product_category_id_14d7eea8_fk_shop_category_id" IMMEDIATE; ALTER TABLE "shop_product" DROP CONSTRAINT "shop_product_category_id_14d7eea8_fk_shop_category_id";
ALTER TABLE "shop_product" ALTER COLUMN "category_id" DROP NOT NULL;
ALTER TABLE "shop_product" ADD CONSTRAINT "shop_product_category_id_14d7eea8_fk_shop_category_id" FOREIGN KEY ("category_id") REFERENCES "shop_category" ("id") DEFERRABLE INITIALLY DEFERRED;
--
-- Alter field stock on product
--
ALTER TABLE "shop_product" DROP CONSTRAINT "shop_product_stock_check";
--
-- Alter field rating on product
--
ALTER TABLE "shop_product" ADD CONSTRAINT "shop_product_rating_cb49943f_check" CHECK ("rating" >= 0);
--
-- Alter field weight on product
--
--
-- Alter field code on product
--
ALTER TABLE "shop_product" ADD CONSTRAINT "shop_product_code_fdb8d8a6_uniq" UNIQUE ("code");
COMMIT;
