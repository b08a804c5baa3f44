// placeholder: replaced by the server boot
