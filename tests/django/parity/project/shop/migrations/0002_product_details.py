import datetime
from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='product',
            name='weight',
            field=models.FloatField(default=1.5),
        ),
        migrations.AddField(
            model_name='product',
            name='code',
            field=models.UUIDField(null=True, blank=True),
        ),
        migrations.AddField(
            model_name='product',
            name='data',
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name='product',
            name='options',
            field=models.JSONField(default={'colours': ['red', 'grün'], 'size': 3, 'ok': True, 'x': None}),
        ),
        migrations.AddField(
            model_name='product',
            name='rating',
            field=models.SmallIntegerField(default=-1),
        ),
        migrations.AddField(
            model_name='product',
            name='released',
            field=models.DateField(default=datetime.date(2020, 1, 31)),
        ),
        migrations.AddField(
            model_name='product',
            name='note',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='product',
            name='motto',
            field=models.CharField(default="it's 100% \\ done", max_length=40),
        ),
        migrations.AddField(
            model_name='product',
            name='is_active',
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name='product',
            name='discount',
            field=models.DecimalField(decimal_places=2, max_digits=5, null=True),
        ),
        migrations.AddField(
            model_name='product',
            name='ratio',
            field=models.DecimalField(decimal_places=3, default=Decimal('1.5'), max_digits=6),
        ),
        migrations.AddField(
            model_name='product',
            name='shelf_life',
            field=models.DurationField(default=datetime.timedelta(days=2, hours=3)),
        ),
        migrations.AddIndex(
            model_name='product',
            index=models.Index(fields=['-price', 'title'], name='shop_produc_price_1c2d3e_idx'),
        ),
        migrations.AddIndex(
            model_name='product',
            index=models.Index(fields=['sku'], name='shop_sku_active_idx', condition=models.Q(is_active=True)),
        ),
        migrations.AddConstraint(
            model_name='product',
            constraint=models.CheckConstraint(check=models.Q(('price__gte', 0), ('stock__lte', 100000)), name='price_stock_check'),
        ),
        migrations.AddConstraint(
            model_name='product',
            constraint=models.CheckConstraint(check=models.Q(('rating__in', [-1, 1, 2, 3])) | models.Q(('note__startswith', 'x')), name='rating_or_note'),
        ),
        migrations.AddConstraint(
            model_name='product',
            constraint=models.UniqueConstraint(condition=models.Q(('is_active', True)), fields=('title',), name='uniq_active_title'),
        ),
        migrations.AddConstraint(
            model_name='product',
            constraint=models.UniqueConstraint(deferrable=models.Deferrable['DEFERRED'], fields=('sku', 'category'), name='uniq_sku_category'),
        ),
    ]
