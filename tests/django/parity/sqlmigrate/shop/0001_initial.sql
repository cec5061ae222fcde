BEGIN;
--
-- Create model Category
--
CREATE TABLE "shop_category" ("id" serial NOT NULL PRIMARY KEY, "name" varchar(100) NOT NULL UNIQUE, "slug" varchar(50) NOT NULL, "created" timestamp with time zone NOT NULL, "parent_id" integer NULL);
--
-- Create model Tag
--
CREATE TABLE "shop_tag" ("id" serial NOT NULL PRIMARY KEY, "label" varchar(50) NOT NULL UNIQUE);
--
-- Create model Product
--
CREATE TABLE "shop_product" ("id" serial NOT NULL PRIMARY KEY, "sku" varchar(32) NOT NULL, "title" varchar(200) NOT NULL, "price" numeric(10, 2) NOT NULL, "stock" integer NOT NULL CHECK ("stock" >= 0), "category_id" integer NOT NULL);
--
-- Add field tags to product
--
CREATE TABLE "shop_product_tags" ("id" serial NOT NULL PRIMARY KEY, "product_id" integer NOT NULL, "tag_id" integer NOT NULL);
ALTER TABLE "shop_category" ADD CONSTRAINT "shop_category_parent_id_901626c9_fk_shop_category_id" FOREIGN KEY ("parent_id") REFERENCES "shop_category" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "shop_category_name_11b68823_like" ON "shop_category" ("name" varchar_pattern_ops);
CREATE INDEX "shop_category_slug_4508178e" ON "shop_category" ("slug");
CREATE INDEX "shop_category_slug_4508178e_like" ON "shop_category" ("slug" varchar_pattern_ops);
CREATE INDEX "shop_category_parent_id_901626c9" ON "shop_category" ("parent_id");
CREATE INDEX "shop_tag_label_75bd5993_like" ON "shop_tag" ("label" varchar_pattern_ops);
ALTER TABLE "shop_product" ADD CONSTRAINT "shop_product_category_id_sku_9c9a050a_uniq" UNIQUE ("category_id", "sku");
ALTER TABLE "shop_product" ADD CONSTRAINT "shop_product_category_id_14d7eea8_fk_shop_category_id" FOREIGN KEY ("category_id") REFERENCES "shop_category" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "shop_product_sku_20049d15" ON "shop_product" ("sku");
CREATE INDEX "shop_product_sku_20049d15_like" ON "shop_product" ("sku" varchar_pattern_ops);
CREATE INDEX "shop_product_category_id_14d7eea8" ON "shop_product" ("category_id");
CREATE INDEX "shop_product_title_price_1a647a64_idx" ON "shop_product" ("title", "price");
ALTER TABLE "shop_product_tags" ADD CONSTRAINT "shop_product_tags_product_id_tag_id_a244154e_uniq" UNIQUE ("product_id", "tag_id");
ALTER TABLE "shop_product_tags" ADD CONSTRAINT "shop_product_tags_product_id_9a158885_fk_shop_product_id" FOREIGN KEY ("product_id") REFERENCES "shop_product" ("id") DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE "shop_product_tags" ADD CONSTRAINT "shop_product_tags_tag_id_dd30c4fb_fk_shop_tag_id" FOREIGN KEY ("tag_id") REFERENCES "shop_tag" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "shop_product_tags_product_id_9a158885" ON "shop_product_tags" ("product_id");
CREATE INDEX "shop_product_tags_tag_id_dd30c4fb" ON "shop_product_tags" ("tag_id");
COMMIT;
