from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0005_removals'),
        ('inventory', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='category',
            name='id',
            field=models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID'),
        ),
        migrations.RemoveField(
            model_name='product',
            name='section',
        ),
    ]
