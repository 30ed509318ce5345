DROP TABLE blob_rows;
