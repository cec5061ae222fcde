import django.contrib.postgres.fields
from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('shop', '0004_renames'),
    ]

    operations = [
        migrations.CreateModel(
            name='Stock',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('warehouse', models.CharField(max_length=20)),
                ('qty', models.IntegerField(default=0)),
                ('bins', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=10), default=list, size=4)),
                ('product', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, to='shop.product')),
                ('category', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='shop.category')),
                ('home', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='stocks', to='shop.category')),
            ],
            options={
                'constraints': [models.CheckConstraint(check=models.Q(('qty__gte', 0)), name='qty_non_negative')],
                'indexes': [models.Index(fields=['warehouse', '-qty'], name='inventory_s_warehou_8a1b2c_idx')],
            },
        ),
        migrations.AddField(
            model_name='stock',
            name='note',
            field=models.CharField(blank=True, max_length=100, null=True),
        ),
    ]
