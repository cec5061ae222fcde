BEGIN;
--
-- Rename field title on product to name
--
ALTER TABLE "shop_product" RENAME COLUMN "title" TO "name";
--
-- Rename field category on product to section
--
SET CONSTRAINTS "shop_product_category_id_14d7eea8_fk_shop_category_id" IMMEDIATE; ALTER TABLE "shop_product" DROP CONSTRAINT "shop_product_category_id_14d7eea8_fk_shop_category_id";
ALTER TABLE "shop_product" RENAME COLUMN "category_id" TO "section_id";
ALTER TABLE "shop_product" ADD CONSTRAINT "shop_product_section_id_f90548fb_fk_shop_category_id" FOREIGN KEY ("section_id") REFERENCES "shop_category" ("id") DEFERRABLE INITIALLY DEFERRED;
--
-- Rename model Tag to Label
--
ALTER TABLE "shop_tag" RENAME TO "shop_label";
SET CONSTRAINTS "shop_product_tags_tag_id_dd30c4fb_fk_shop_tag_id" IMMEDIATE; ALTER TABLE "shop_product_tags" DROP CONSTRAINT "shop_product_tags_tag_id_dd30c4fb_fk_shop_tag_id";
ALTER TABLE "shop_product_tags" RENAME COLUMN "tag_id" TO "label_id";
ALTER TABLE "shop_product_tags" ADD CONSTRAINT "shop_product_tags_label_id_72a3587a_fk_shop_label_id" FOREIGN KEY ("label_id") REFERENCES "shop_label" ("id") DEFERRABLE INITIALLY DEFERRED;
--
-- Rename table for category to shop_categories
--
ALTER TABLE "shop_category" RENAME TO "shop_categories";
COMMIT;
