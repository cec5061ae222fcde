# -*- coding: utf-8 -*-
from __future__ import unicode_literals

from django.db import migrations, models
import django.db.models.deletion

SQL_ADD = """
ALTER TABLE shop_product ADD COLUMN legacy_ref integer NULL;
CREATE INDEX shop_product_legacy_ref_idx ON shop_product (legacy_ref);
"""


def noop(apps, schema_editor):
    pass


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0006_bigint_keys'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(SQL_ADD, reverse_sql=migrations.RunSQL.noop)],
            state_operations=[
                migrations.AddField(
                    model_name='product',
                    name='legacy_ref',
                    field=models.IntegerField(null=True, db_index=True),
                ),
            ],
        ),
        migrations.RunSQL(
            sql=[("COMMENT ON TABLE shop_product IS %s", ['products (café)'])],
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.CreateModel(
            name='Variant',
            fields=[
                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('label', models.CharField(max_length=30)),
                ('product', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='shop.product')),
            ],
            options={'order_with_respect_to': 'product'},
        ),
        migrations.AlterOrderWithRespectTo(
            name='variant',
            order_with_respect_to=None,
        ),
        migrations.AddField(
            model_name='variant',
            name='kind',
            field=models.CharField(default='std', max_length=10, db_index=True),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name='product',
            name='is_active',
            field=models.BooleanField(default=True, null=True),
        ),
        migrations.RunPython(noop, noop),
    ]
