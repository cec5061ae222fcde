from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0001_initial'),
        ('shop', '0006_bigint_keys'),
    ]

    operations = [
        migrations.AlterField(
            model_name='stock',
            name='qty',
            field=models.BigIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name='stock',
            name='warehouse',
            field=models.CharField(max_length=20, unique=True),
        ),
        migrations.AlterField(
            model_name='stock',
            name='note',
            field=models.CharField(blank=True, default='', max_length=100),
        ),
        migrations.RenameField(
            model_name='stock',
            old_name='home',
            new_name='origin',
        ),
    ]
