-- The place of each stored mention (g_out): its best-scoring candidate country (p >= the
-- macro g_min_score()), and within that country the town the co-mentions point at. A name
-- with several towns in the country (g_alt: "Alexandria" in Virginia, Louisiana, Minnesota...)
-- takes the one inside a division named by another confident mention ("Rapides Parish",
-- "Louisiana"), else the one within 150 km of another confident mention's place, else the
-- most populous (the index's choice). Every mention has a point: countries and divisions
-- carry a representative point from the index.
CREATE OR REPLACE TEMP TABLE g_best AS
SELECT s.*, m.key
FROM g_scored s JOIN g_ment m USING (mid)
WHERE s.p >= g_min_score()
QUALIFY row_number() OVER (PARTITION BY s.mid ORDER BY s.p DESC, s.cc DESC) = 1;

CREATE OR REPLACE TEMP TABLE g_out AS
WITH ctx AS (  -- what confident mentions say about where the text is
    SELECT r, mid, cc, a1, lat, lon, (f_admin1 > 0 OR f_us_state > 0) AS division
    FROM g_best
    WHERE p >= 0.5 AND f_country = 0 AND lat IS NOT NULL
), cand AS (
    SELECT b.r, b.mid, b.cc, a.gid, a.lat, a.lon, a.a1, a.pop
    FROM g_best b JOIN g_alt a ON a.key = b.key AND a.cc = b.cc
    WHERE b.f_city > 0 AND b.r IN (SELECT r FROM ctx GROUP BY r HAVING count(*) > 1)
), ev AS (
    SELECT c.mid, c.gid, any_value(c.lat) AS lat, any_value(c.lon) AS lon,
           any_value(c.pop) AS pop,
           coalesce(bool_or(x.division AND x.a1 = c.a1), false) AS inside,
           coalesce(bool_or(g_km(c.lat, c.lon, x.lat, x.lon) <= 150), false) AS near
    FROM cand c LEFT JOIN ctx x ON x.r = c.r AND x.mid <> c.mid AND x.cc = c.cc
    GROUP BY c.mid, c.gid
), pick AS (
    SELECT mid, gid, lat, lon, inside OR near AS moved
    FROM ev
    QUALIFY row_number() OVER (PARTITION BY mid ORDER BY inside DESC, near DESC, pop DESC, gid)
            = 1
)
SELECT b.r, b.mid, b.mtext AS mention, b.s AS start_pos, b.e AS end_pos,
       CASE WHEN k.moved THEN k.gid ELSE b.gid END AS geonameid, b.cc AS country_code,
       CASE WHEN k.moved THEN k.lat ELSE b.lat END AS lat,
       CASE WHEN k.moved THEN k.lon ELSE b.lon END AS lon,
       round(b.p, 4) AS score
FROM g_best b LEFT JOIN pick k USING (mid);
