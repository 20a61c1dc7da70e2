-- The default fields of expertise (DESIGN.md), loaded once; admins edit them afterwards.
INSERT INTO expertise_fields (code, name_fr, name_en, position, routes_to_admins) VALUES
    ('legal',     'Services juridiques',                      'Legal services',                      1, 0),
    ('hr',        'Gestion des ressources humaines',          'Human resources',                     2, 0),
    ('marketing', 'Marketing et développement des affaires',  'Marketing and business development',  3, 0),
    ('events',    'Organisation d''événements',               'Event organisation',                  4, 0),
    ('web',       'Développement Web',                        'Web development',                     5, 0),
    ('it',        'Technologies de l''information',           'Information technology',              6, 0),
    ('other',     'Autre',                                    'Other',                               99, 1);
