"""Search end to end, in one direction: `records` (what a search is asked and answers) <- `filters`
(the query language's KEY:VALUE filters) <- `query` (parsing a whole query) <- `vectors` (a query as one
embedding) and `ranking` (from filters and a vector to the photos returned). `Library.search` drives them."""
