from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0004_renames'),
    ]

    operations = [
        migrations.AlterUniqueTogether(
            name='product',
            unique_together=set(),
        ),
        migrations.AlterIndexTogether(
            name='product',
            index_together=set(),
        ),
        migrations.RemoveIndex(
            model_name='product',
            name='shop_produc_price_1c2d3e_idx',
        ),
        migrations.RemoveConstraint(
            model_name='product',
            name='price_stock_check',
        ),
        migrations.RemoveConstraint(
            model_name='product',
            name='uniq_active_title',
        ),
        migrations.RemoveConstraint(
            model_name='product',
            name='uniq_sku_category',
        ),
        migrations.RemoveField(
            model_name='product',
            name='tags',
        ),
        migrations.DeleteModel(
            name='Label',
        ),
    ]
