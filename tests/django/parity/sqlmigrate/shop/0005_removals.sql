BEGIN;
--
-- Alter unique_together for product (0 constraint(s))
--
ALTER TABLE "shop_product" DROP CONSTRAINT "shop_product_category_id_sku_9c9a050a_uniq";
--
-- Alter index_together for product (0 constraint(s))
--
DROP INDEX IF EXISTS "shop_product_title_price_1a647a64_idx";
--
-- Remove index shop_produc_price_1c2d3e_idx from product
--
DROP INDEX IF EXISTS "shop_produc_price_1c2d3e_idx";
--
-- Remove constraint price_stock_check from model product
--
ALTER TABLE "shop_product" DROP CONSTRAINT "price_stock_check";
--
-- Remove constraint uniq_active_title from model product
--
DROP INDEX IF EXISTS "uniq_active_title";
--
-- Remove constraint uniq_sku_category from model product
--
ALTER TABLE "shop_product" DROP CONSTRAINT "uniq_sku_category";
--
-- Remove field tags from product
--
DROP TABLE "shop_product_tags" CASCADE;
--
-- Delete model Label
--
DROP TABLE "shop_label" CASCADE;
COMMIT;
