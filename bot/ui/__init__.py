"""What people see: texts and translations, rendering, keyboards, callback data, command menus."""
