from . import phone_number, spreadsheet
