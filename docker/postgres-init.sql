-- Each service owns its own database; neither reads the other's.
CREATE DATABASE store;
CREATE DATABASE inventory;
