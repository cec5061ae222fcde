BEGIN;
--
-- Create model Stock
--
CREATE TABLE "inventory_stock" ("id" bigserial NOT NULL PRIMARY KEY, "warehouse" varchar(20) NOT NULL, "qty" integer NOT NULL, "bins" varchar(10)[4] NOT NULL, "product_id" integer NOT NULL UNIQUE, "category_id" integer NOT NULL, "home_id" integer NULL, CONSTRAINT "qty_non_negative" CHECK ("qty" >= 0));
--
-- Add field note to stock
--
ALTER TABLE "inventory_stock" ADD COLUMN "note" varchar(100) NULL;
ALTER TABLE "inventory_stock" ADD CONSTRAINT "inventory_stock_product_id_b75f69ba_fk_shop_product_id" FOREIGN KEY ("product_id") REFERENCES "shop_product" ("id") DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE "inventory_stock" ADD CONSTRAINT "inventory_stock_category_id_55a07129_fk_shop_categories_id" FOREIGN KEY ("category_id") REFERENCES "shop_categories" ("id") DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE "inventory_stock" ADD CONSTRAINT "inventory_stock_home_id_6082378d_fk_shop_categories_id" FOREIGN KEY ("home_id") REFERENCES "shop_categories" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "inventory_stock_category_id_55a07129" ON "inventory_stock" ("category_id");
CREATE INDEX "inventory_stock_home_id_6082378d" ON "inventory_stock" ("home_id");
CREATE INDEX "inventory_s_warehou_8a1b2c_idx" ON "inventory_stock" ("warehouse", "qty" DESC);
COMMIT;
