BEGIN;
--
-- Alter field id on category
--
SET CONSTRAINTS "inventory_stock_category_id_55a07129_fk_shop_categories_id" IMMEDIATE; ALTER TABLE "inventory_stock" DROP CONSTRAINT "inventory_stock_category_id_55a07129_fk_shop_categories_id";
SET CONSTRAINTS "inventory_stock_home_id_6082378d_fk_shop_categories_id" IMMEDIATE; ALTER TABLE "inventory_stock" DROP CONSTRAINT "inventory_stock_home_id_6082378d_fk_shop_categories_id";
SET CONSTRAINTS "shop_category_parent_id_901626c9_fk_shop_category_id" IMMEDIATE; ALTER TABLE "shop_categories" DROP CONSTRAINT "shop_category_parent_id_901626c9_fk_shop_category_id";
SET CONSTRAINTS "shop_product_section_id_f90548fb_fk_shop_category_id" IMMEDIATE; ALTER TABLE "shop_product" DROP CONSTRAINT "shop_product_section_id_f90548fb_fk_shop_category_id";
ALTER TABLE "shop_categories" ALTER COLUMN "id" TYPE bigint USING "id"::bigint;
DROP SEQUENCE IF EXISTS "shop_categories_id_seq" CASCADE;
CREATE SEQUENCE "shop_categories_id_seq";
ALTER TABLE "shop_categories" ALTER COLUMN "id" SET DEFAULT nextval('"shop_categories_id_seq"');
SELECT setval('"shop_categories_id_seq"', MAX("id")) FROM "shop_categories";
ALTER SEQUENCE "shop_categories_id_seq" OWNED BY "shop_categories"."id";
ALTER TABLE "inventory_stock" ALTER COLUMN "category_id" TYPE bigint USING "category_id"::bigint;
ALTER TABLE "inventory_stock" ALTER COLUMN "home_id" TYPE bigint USING "home_id"::bigint;
ALTER TABLE "shop_categories" ALTER COLUMN "parent_id" TYPE bigint USING "parent_id"::bigint;
ALTER TABLE "shop_product" ALTER COLUMN "section_id" TYPE bigint USING "section_id"::bigint;
ALTER TABLE "inventory_stock" ADD CONSTRAINT "inventory_stock_home_id_6082378d_fk" FOREIGN KEY ("home_id") REFERENCES "shop_categories" ("id") DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE "shop_categories" ADD CONSTRAINT "shop_categories_parent_id_7f222d2a_fk" FOREIGN KEY ("parent_id") REFERENCES "shop_categories" ("id") DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE "shop_product" ADD CONSTRAINT "shop_product_section_id_f90548fb_fk" FOREIGN KEY ("section_id") REFERENCES "shop_categories" ("id") DEFERRABLE INITIALLY DEFERRED;
--
-- Remove field section from product
--
SET CONSTRAINTS "shop_product_section_id_f90548fb_fk_shop_category_id" IMMEDIATE; ALTER TABLE "shop_product" DROP CONSTRAINT "shop_product_section_id_f90548fb_fk_shop_category_id";
ALTER TABLE "shop_product" DROP COLUMN "section_id" CASCADE;
COMMIT;
