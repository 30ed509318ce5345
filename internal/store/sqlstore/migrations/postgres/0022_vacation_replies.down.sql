DROP TABLE jmap_vacation_replies;
