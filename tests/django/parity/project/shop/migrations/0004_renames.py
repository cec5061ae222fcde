from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0003_alter_fields'),
    ]

    operations = [
        migrations.RenameField(
            model_name='product',
            old_name='title',
            new_name='name',
        ),
        migrations.RenameField(
            model_name='product',
            old_name='category',
            new_name='section',
        ),
        migrations.RenameModel(
            old_name='Tag',
            new_name='Label',
        ),
        migrations.AlterModelTable(
            name='category',
            table='shop_categories',
        ),
    ]
