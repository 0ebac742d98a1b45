"""The starter themes: the problems the articles and shops name, in English, French, Romanian,
German and Spanish.

Data only (the matcher is core/themes.py). Each term is written accent-folded and lower case
(what `themes.normalize` turns text into: "é" → "e", "ș" → "s", "ß" → "ss"):

* `word`     one word exactly;
* `stem*`    any word starting with `stem` (livraison, livré, livreur ← `livr*`);
* `*part*`   any word containing `part` (German compounds: Paketzustellung ← `*zustell*`);
* `a b`      words in a row, each as above ("on hold", "ne marche pas", "din nou").

A word matched by several terms counts for the most specific one only (the longest literal
text; a phrase counts its words): "transferencia" is a payment (`transferencia*`), not a transfer
(`transfer*`); "Versandkosten" a price, not a delivery. Misspellings at one edit from a term of six
letters or more are recognised by the matcher ("delivary", "refnud"), so only the common ones
that are further away need listing here.

Bump `LEXICON_VERSION` whenever a term changes: stored theme assignments carry it, and a new
version re-themes the comments on the next report.
"""
from __future__ import annotations

LEXICON_VERSION = "2026-12-01.1"

# (key, English label, {language: terms}); the order is the tie-break between themes (most
# specific first: a comment naming a late parcel and a long wait is about the delivery).
STARTER_THEMES: tuple[tuple[str, str, dict[str, tuple[str, ...]]], ...] = (
    ("returns-refunds", "Returns and refunds", {
        "en": ("return*", "refund*", "refnud", "money back", "reimburs*", "exchang*", "send back", "sent back",
               "send it back", "rma", "credit note", "store credit"),
        "fr": ("rembours*", "remboursment", "retour*", "retourn*", "echang*", "renvoyer le"),
        "ro": ("retur*", "returnare", "rambursa*", "rambursar*", "banii inapoi", "schimb", "schimbul"),
        "de": ("ruckerstatt*", "*erstatt*", "rucksend*", "*rucksend*", "retour*", "*retoure*", "umtausch*",
               "geld zuruck", "zuruckgeschickt", "zuruckschick*", "zuruckgeb*", "storn*"),
        "es": ("devoluci*", "devolv*", "devuel*", "reembols*", "reintegr*", "mi dinero", "dinero de vuelta"),
    }),
    ("delivery", "Delivery", {
        "en": ("deliver*", "delivary", "delievery", "shipping", "shiping", "ship", "shipped", "shipment*",
               "parcel*", "package*", "packet", "courier*", "arriv*", "tracking", "dispatch*", "postman",
               "postal", "ups", "dhl", "fedex", "never came", "never showed up", "wrong address", "late"),
        "fr": ("livr*", "colis", "expedi*", "transporteur*", "la poste", "facteur", "achemin*",
               "point relais", "relais", "retard*", "chronopost", "colissimo", "jamais recu", "pas recu", "toujours pas recu"),
        "ro": ("livr*", "colet*", "curier*", "expedi*", "coletul", "posta", "sosi*", "sosit", "a ajuns",
               "nu a ajuns", "n a ajuns", "awb", "fan courier", "sameday", "easybox"),
        "de": ("liefer*", "*liefer*", "versand*", "*versand*", "versend*", "paket*", "*paket*", "zustell*",
               "*zustell*", "sendung*", "kurier*", "verspat*", "hermes", "angekommen", "nicht angekommen", "ankunft"),
        "es": ("entreg*", "envio*", "enviado", "paquete*", "mensajer*", "repartidor*", "transportista*",
               "llego", "llegado", "llegar", "no llego", "nunca llego", "correos", "seur"),
    }),
    ("payment", "Payment", {
        "en": ("pay", "paid", "paying", "payment*", "paymnet", "card", "cards", "credit card", "debit*",
               "charged", "charge", "charges", "charging", "billing", "billed", "invoice*", "transaction*",
               "declin*", "paypal", "apple pay", "google pay", "checkout", "bank", "iban"),
        "fr": ("paiement*", "payer", "paye", "payee", "payant", "carte", "cartes", "carte bancaire", "bancaire*",
               "cb", "factur*", "prelev*", "debite*", "virement*", "moyen de paiement"),
        "ro": ("plata", "plati", "platit*", "platesc", "plateste", "achit*", "card", "cardul", "bancar*",
               "factur*", "tranzacti*", "debitat*", "banca", "banii au fost retrasi", "retras*"),
        "de": ("zahlung*", "*zahlung*", "bezahl*", "zahlen", "gezahlt", "karte", "kreditkarte*", "*karte",
               "rechnung*", "abbuch*", "abgebucht", "uberweis*", "paypal", "kasse", "bank"),
        "es": ("pago*", "pagar", "pagad*", "pague", "tarjeta*", "cobr*", "factur*", "transacci*",
               "transferencia*", "bancari*", "banco", "rechaz*"),
    }),
    ("website-errors", "Website or app errors", {
        "en": ("error*", "bug", "bugs", "buggy", "crash*", "broken", "doesn t work", "does not work",
               "didn t work", "not working", "won t load", "glitch*", "froze", "freez*", "frozen", "website",
               "site", "app", "page", "pages", "login", "log in", "password*", "button*", "loading", "stuck",
               "blank page", "white screen", "timeout", "timed out", "404", "500", "failed", "fails", "fail"),
        "fr": ("erreur*", "beug*", "bogue*", "plant*", "ne marche pas", "marche pas", "ne fonctionne pas",
               "fonctionne pas", "site", "appli", "applis", "application*", "page", "connexion", "se connecter",
               "mot de passe", "bouton*", "chargement*", "ne charge pas", "bloque*", "ecran blanc", "crash*",
               "impossible de valider", "beugue"),
        "ro": ("eroare", "erori*", "eroar*", "nu merge", "nu functioneaza", "functioneaza", "site*",
               "aplicati*", "pagina*", "se blocheaza", "blocat*", "blocheaza", "logare", "autentific*",
               "parol*", "buton*", "se incarca", "incarc*", "a picat", "crapa"),
        "de": ("fehler*", "*fehler*", "absturz*", "*absturz*", "abgesturzt", "funktioniert nicht", "geht nicht",
               "webseite*", "website*", "seite", "app", "login", "anmeld*", "passwort*", "knopf*", "ladt nicht",
               "hangt"),
        "es": ("error*", "fallo*", "falla", "fallando", "no funciona", "no carga", "pagina*", "web", "sitio",
               "aplicacion*", "contrasena*", "iniciar sesion", "boton*", "bloquead*", "se cuelga", "colgad*"),
    }),
    ("transfers-repetition", "Being transferred or repeating information", {
        "en": ("transfer*", "passed around", "passed from", "bounced", "put through", "repeat*", "again and again",
               "over and over", "same thing", "explain again", "explain everything again", "start over",
               "another department", "different department", "different agent", "another agent", "redirect*",
               "escalat*", "three times", "several times", "multiple times", "each time", "every time"),
        "fr": ("transfer*", "redirig*", "d un service a l autre", "un autre service", "autre conseiller",
               "repet*", "encore et encore", "a chaque fois", "chaque fois", "reexpliqu*", "re expliquer",
               "expliquer a nouveau", "de nouveau", "recommenc*", "ballot*", "plusieurs fois", "trois fois"),
        "ro": ("transfer*", "redirectio*", "alt departament", "alt operator", "alt coleg", "de la un departament",
               "repet*", "din nou", "iar si iar", "de fiecare data", "aceeasi poveste", "de mai multe ori",
               "de trei ori", "pasat*"),
        "de": ("weitergeleitet", "weiterleit*", "*weiterverbund*", "verbunden", "durchgestellt",
               "andere abteilung", "anderen abteilung", "wiederhol*", "immer wieder", "noch einmal", "nochmal",
               "erneut", "von vorne", "mehrmals", "jedes mal"),
        "es": ("transferi*", "transfirieron", "me pasaron", "pasaron de", "otro departamento", "otro agente",
               "redirig*", "repet*", "una y otra vez", "otra vez", "de nuevo", "volver a explicar",
               "varias veces", "cada vez"),
    }),
    ("staff", "Staff helpfulness", {
        "en": ("staff", "agent*", "employee*", "rude*", "unhelpful", "helpful*", "help", "helped", "polite*",
               "impolite", "friendly", "unfriendly", "representative*", "rep", "operator*", "advisor*",
               "adviser*", "customer service", "attitude", "manager", "knowledgeable", "incompetent*",
               "competent*", "courteous", "salesperson", "cashier"),
        "fr": ("personnel", "employe*", "agent*", "conseill*", "vendeu*", "operat*", "aimabl*", "poli", "polie",
               "impoli*", "desagreabl*", "sympa*", "accueil*", "service client", "aid*", "competent*",
               "incompetent*", "malpoli*", "gentil*", "serviable*", "arrogant*", "mepris*"),
        "ro": ("personal", "personalul", "angajat*", "agent*", "operator*", "consultant*", "vanzat*", "amabil*",
               "politicos*", "nepoliticos*", "ajut*", "serviciul clienti", "relatii cu clientii", "coleg*",
               "doamna", "domnul", "incompetent*", "competent*", "obraznic*", "nesimtit*", "dezinteres*"),
        "de": ("mitarbeiter*", "personal", "berater*", "verkaufer*", "agent*", "kundenservice", "*kundendienst*",
               "*kundenservice*", "freundlich*", "unfreundlich*", "hoflich*", "unhoflich*", "hilfsbereit*",
               "geholfen", "hilf*", "kompetent*", "inkompetent*", "frech"),
        "es": ("personal", "emplead*", "agente*", "operador*", "asesor*", "vendedor*", "atencion", "amabl*",
               "groser*", "maleducad*", "educad*", "simpatic*", "antipatic*", "ayud*", "competent*",
               "incompetent*", "servicio al cliente"),
    }),
    ("price", "Price", {
        "en": ("price*", "pricing", "expensive", "cost", "costs", "costly", "overpriced", "cheap*", "fee", "fees",
               "shipping cost*", "too much money", "rip off", "ripoff", "value for money", "discount*", "promo*",
               "coupon*", "voucher*"),
        "fr": ("prix", "cher", "chere", "cheres", "chers", "couteu*", "tarif*", "cout", "couts", "frais",
               "frais de port", "promo*", "remise*", "reduction*", "trop cher", "hors de prix", "code promo"),
        "ro": ("pret", "pretul", "preturi*", "pretului", "scump*", "ieftin*", "cost", "costul", "costa", "taxa",
               "taxe", "taxa de livrare", "reducere*", "promoti*", "voucher*", "cupon*"),
        "de": ("preis*", "*preis*", "teuer*", "zu teuer", "kosten", "kostet", "versandkosten*", "*gebuhr*",
               "gebuhr*", "billig*", "rabatt*", "gutschein*"),
        "es": ("precio*", "caro", "cara", "caros", "caras", "costo*", "coste*", "cuesta", "tarifa*", "comision*",
               "descuento*", "cupon*", "barato*", "gastos de envio"),
    }),
    ("waiting", "Waiting", {
        "en": ("wait*", "hour", "hours", "minute*", "mins", "forever", "queue*", "on hold", "hold", "slow*",
               "took ages", "ages", "long time", "delay*", "too long", "still waiting", "no reply", "no response",
               "no answer", "never answered", "never replied", "days later", "weeks"),
        "fr": ("attend*", "attente", "en attente", "heure", "heures", "minute*", "lent*", "lenteur*",
               "interminabl*", "trop long*", "delai*", "file d attente", "patient*", "pas de reponse",
               "aucune reponse", "sans reponse", "toujours rien", "semaines", "jours"),
        "ro": ("astept*", "asteptare", "ore", "ora", "minut*", "coada", "lent*", "incet*", "prea mult",
               "niciun raspuns", "fara raspuns", "nimeni nu raspunde", "intarzi*", "saptamani", "zile"),
        "de": ("wart*", "gewartet", "warteschleife*", "*wartezeit*", "stunde*", "minute*", "langsam*",
               "zu lange", "ewig*", "verzoger*", "keine antwort", "wochen", "tage"),
        "es": ("esper*", "hora", "horas", "minuto*", "lent*", "cola", "tardo", "tardaron", "tarda*", "demor*",
               "sin respuesta", "nadie responde", "nadie contesta", "semanas", "dias"),
    }),
)

LANGUAGES = ("en", "fr", "ro", "de", "es")

# Words that say nothing about a problem, for the discovery of new themes (themes_discovery.py).
STOPWORDS: frozenset[str] = frozenset("""
a an the and or but if then so to of in on at for with from by about as is are was were be been being it its
this that these those i me my we our you your he she they them their his her not no nor very too just also
have has had do does did done can could would should will shall may might must get got really still even
there here when what which who whom why how all any some more most much many than only own same other
out up down over again once all one two three im ive dont didnt cant wont isnt wasnt thanks thank please
le la les un une des du de et ou mais donc car ni que qui quoi dont ou ce cet cette ces mon ma mes ton ta tes
son sa ses notre nos votre vos leur leurs je tu il elle on nous vous ils elles me te se lui y en ne pas plus
tres trop bien est sont etait ete etre avoir ai as avons avez ont fait faire pour par avec sans sur sous dans
chez tout tous toute toutes meme aussi encore deja jamais rien personne merci bonjour au aux l d j n s c qu
si comme alors quand
si sau dar nu este sunt era am ai au un o unei unui al ale ai lui ei lor eu tu el ea noi voi ei ele pe la cu
de din in pentru prin despre fara sub peste ca ce care cine cum cand unde foarte mai tot toti toata toate
acest aceasta acesti aceste acel acea asa doar deja inca fost fi fie sa se ma te ne va vi le ii il mi ti
mult multa multe multi bine nimic multumesc buna
der die das den dem des ein eine einer einem einen und oder aber nicht kein keine ist sind war waren sein bin
bist hat habe haben hatte ich du er sie es wir ihr mich mir dich dir uns euch mein meine dein sich zu zum zur
von vom mit fur auf aus bei nach uber unter vor an am im in als wie was wer wo wann warum sehr auch noch schon
nur so da dann ja nein danke bitte immer alles etwas nichts man mal
el la los las un una unos unas y o pero ni que quien como cuando donde porque por para con sin sobre entre
de del al en es son era fue ser estar esta estan estaba he ha han hay yo tu usted ella nosotros ellos me te se
le les lo mi mis su sus nuestro muy mas menos ya todavia tambien nada todo todos gracias hola no si
""".split())
