"""Curated multilingual place names (data only; `udfs.language.names` builds the table).

WORLD rows: English name | ISO2 | what it names | Spanish | Japanese | Hindi | Greek. "What it
names" is `city`, `admin1`, `country` or `kind:Place name` (a landmark or island that stands for
that place, e.g. `admin1:South Aegean` for Santorini). Alternatives are separated by ';'. Greek
names are nominatives: their case forms are generated (`names.greek_forms`).
"""

WORLD = """
Paris|FR|city|París|パリ|पेरिस|Παρίσι
London|GB|city|Londres|ロンドン|लंदन;लन्दन|Λονδίνο
New York City|US|city|Nueva York|ニューヨーク|न्यूयॉर्क;न्यू यॉर्क;न्यूयार्क|Νέα Υόρκη
Tokyo|JP|city|Tokio|東京|टोक्यो;तोक्यो|Τόκιο
Rome|IT|city|Roma|ローマ|रोम|Ρώμη
Dubai|AE|city|Dubái|ドバイ|दुबई|Ντουμπάι
Abu Dhabi|AE|city|Abu Dabi|アブダビ|अबू धाबी|Άμπου Ντάμπι
Seoul|KR|city|Seúl|ソウル|सियोल;सोल|Σεούλ
Hawaii|US|admin1|Hawái|ハワイ|हवाई;हवाई द्वीप;हवाई राज्य|Χαβάη
Bangkok|TH|city|Bangkok|バンコク|बैंकॉक;बैंकाक|Μπανγκόκ
Phuket|TH|city|Phuket|プーケット|फुकेत|Πουκέτ
Singapore|SG|country|Singapur|シンガポール|सिंगापुर|Σιγκαπούρη
Sydney|AU|city|Sídney|シドニー|सिडनी|Σίδνεϊ
Melbourne|AU|city|Melbourne|メルボルン|मेलबर्न|Μελβούρνη
Beijing|CN|city|Pekín|北京|बीजिंग|Πεκίνο
Shanghai|CN|city|Shanghái|上海|शंघाई|Σανγκάη
Hong Kong|HK|country|Hong Kong|香港|हांगकांग;हॉन्ग कॉन्ग|Χονγκ Κονγκ
Taipei|TW|city|Taipéi|台北|ताइपे|Ταϊπέι
Hanoi|VN|city|Hanói|ハノイ|हनोई|Ανόι
Ho Chi Minh City|VN|city|Ciudad Ho Chi Minh|ホーチミン|हो ची मिन्ह सिटी|Πόλη Χο Τσι Μινχ
Bali|ID|admin1|Bali|バリ島|बाली द्वीप|Μπαλί
Maldives|MV|country|Maldivas|モルディブ|मालदीव|Μαλδίβες
Barcelona|ES|city|Barcelona|バルセロナ|बार्सिलोना|Βαρκελώνη
Madrid|ES|city|Madrid|マドリード;マドリッド|मैड्रिड|Μαδρίτη
Seville|ES|city|Sevilla|セビリア|सेविल|Σεβίλλη
Ibiza|ES|city|Ibiza|イビサ|इबीसा|Ίμπιζα
Lisbon|PT|city|Lisboa|リスボン|लिस्बन|Λισαβόνα
Venice|IT|city|Venecia|ベネチア;ヴェネツィア;ベニス|वेनिस|Βενετία
Florence|IT|city|Florencia|フィレンツェ|फ्लोरेंस|Φλωρεντία
Milan|IT|city|Milán|ミラノ|मिलान|Μιλάνο
Naples|IT|city|Nápoles|ナポリ|नेपल्स|Νάπολη
Berlin|DE|city|Berlín|ベルリン|बर्लिन|Βερολίνο
Munich|DE|city|Múnich|ミュンヘン|म्यूनिख|Μόναχο
Amsterdam|NL|city|Ámsterdam|アムステルダム|एम्स्टर्डम|Άμστερνταμ
Prague|CZ|city|Praga|プラハ|प्राग|Πράγα
Vienna|AT|city|Viena|ウィーン|वियना|Βιέννη
Istanbul|TR|city|Estambul|イスタンブール|इस्तांबुल;इस्तांबूल|Κωνσταντινούπολη;Ιστανμπούλ
Moscow|RU|city|Moscú|モスクワ|मास्को;मॉस्को|Μόσχα
Cairo|EG|city|El Cairo|カイロ|काहिरा|Κάιρο
Los Angeles|US|city|Los Ángeles|ロサンゼルス|लॉस एंजिल्स|Λος Άντζελες
San Francisco|US|city|San Francisco|サンフランシスコ|सैन फ्रांसिस्को|Σαν Φρανσίσκο
Las Vegas|US|city|Las Vegas|ラスベガス|लास वेगास|Λας Βέγκας
Chicago|US|city|Chicago|シカゴ|शिकागो|Σικάγο
Washington, D.C.|US|city|Washington D. C.|ワシントンD.C.|वाशिंगटन डीसी|Ουάσινγκτον
Toronto|CA|city|Toronto|トロント|टोरंटो|Τορόντο
Vancouver|CA|city|Vancouver|バンクーバー|वैंकूवर|Βανκούβερ
Mexico City|MX|city|Ciudad de México|メキシコシティ|मेक्सिको सिटी|Πόλη του Μεξικού
Cancún|MX|city|Cancún|カンクン|कैनकन|Κανκούν
Rio de Janeiro|BR|city|Río de Janeiro|リオデジャネイロ|रियो डी जनेरियो|Ρίο ντε Τζανέιρο
Buenos Aires|AR|city|Buenos Aires|ブエノスアイレス|ब्यूनस आयर्स|Μπουένος Άιρες
Havana|CU|city|La Habana|ハバナ|हवाना|Αβάνα
Athens|GR|city|Atenas|アテネ|एथेंस|Αθήνα
Santorini|GR|admin1:South Aegean|Santorini|サントリーニ|सेंटोरिनी|Σαντορίνη
Mykonos|GR|admin1:South Aegean|Mykonos;Míkonos|ミコノス|मायकोनोस|Μύκονος
Crete|GR|admin1|Creta|クレタ島|क्रीट|Κρήτη
Kyoto|JP|city|Kioto|京都|क्योटो|Κιότο
Osaka|JP|city|Osaka|大阪|ओसाका|Οσάκα
Delhi|IN|city|Delhi;Nueva Delhi|デリー;ニューデリー|दिल्ली;नई दिल्ली|Δελχί;Νέο Δελχί
Mumbai|IN|city|Bombay|ムンバイ|मुंबई;मुम्बई|Βομβάη
Bengaluru|IN|city|Bangalore|バンガロール|बेंगलुरु;बेंगलूरु;बैंगलोर|Μπανγκαλόρ
Kathmandu|NP|city|Katmandú|カトマンズ|काठमांडू;काठमाण्डू|Κατμαντού
Edinburgh|GB|city|Edimburgo|エディンバラ|एडिनबर्ग|Εδιμβούργο
Havana|CU|city|La Habana|ハバナ|हवाना|Αβάνα
Jakarta|ID|city|Yakarta|ジャカルタ|जकार्ता|Τζακάρτα
Manila|PH|city|Manila|マニラ|मनीला|Μανίλα
Marrakesh|MA|city|Marrakech|マラケシュ|माराकेश|Μαρακές
Cape Town|ZA|city|Ciudad del Cabo|ケープタウン|केप टाउन|Κέιπ Τάουν
Egypt|EG|country|Egipto|エジプト|मिस्र;मिस्त्र|Αίγυπτος
Nepal|NP|country|Nepal|ネパール|नेपाल|Νεπάλ
Australia|AU|country|Australia|オーストラリア|ऑस्ट्रेलिया;आस्ट्रेलिया|Αυστραλία
India|IN|country|India|インド|भारत;हिंदुस्तान|Ινδία
Sri Lanka|LK|country|Sri Lanka|スリランカ|श्रीलंका|Σρι Λάνκα
Greece|GR|country|Grecia|ギリシャ;ギリシア|ग्रीस;यूनान|Ελλάδα;Ελλάς;Ελλάδος
Cyprus|CY|country|Chipre|キプロス|साइप्रस|Κύπρος
Japan|JP|country|Japón|日本|जापान|Ιαπωνία
Spain|ES|country|España|スペイン|स्पेन|Ισπανία
Mexico|MX|country|México|メキシコ|मेक्सिको|Μεξικό
Italy|IT|country|Italia|イタリア|इटली|Ιταλία
France|FR|country|Francia|フランス|फ्रांस|Γαλλία
United Kingdom|GB|country|Reino Unido;Inglaterra|イギリス;英国|ब्रिटेन;इंग्लैंड|Ηνωμένο Βασίλειο;Αγγλία;Βρετανία
United States|US|country|Estados Unidos;EE. UU.|アメリカ;米国|अमेरिका;अमरीका;संयुक्त राज्य अमेरिका|ΗΠΑ;Αμερική
China|CN|country|China|中国|चीन|Κίνα
South Korea|KR|country|Corea del Sur|韓国|दक्षिण कोरिया|Νότια Κορέα
Thailand|TH|country|Tailandia|タイ王国|थाईलैंड|Ταϊλάνδη
Turkey|TR|country|Turquía|トルコ|तुर्की|Τουρκία
Switzerland|CH|country|Suiza|スイス|स्विट्जरलैंड;स्विट्ज़रलैंड|Ελβετία
Germany|DE|country|Alemania|ドイツ|जर्मनी|Γερμανία
Russia|RU|country|Rusia|ロシア|रूस|Ρωσία
Canada|CA|country|Canadá|カナダ|कनाडा|Καναδάς
Brazil|BR|country|Brasil|ブラジル|ब्राज़ील;ब्राजील|Βραζιλία
Argentina|AR|country|Argentina|アルゼンチン|अर्जेंटीना|Αργεντινή
Peru|PE|country|Perú|ペルー|पेरू|Περού
Morocco|MA|country|Marruecos|モロッコ|मोरक्को|Μαρόκο
Vietnam|VN|country|Vietnam|ベトナム|वियतनाम|Βιετνάμ
Indonesia|ID|country|Indonesia|インドネシア|इंडोनेशिया|Ινδονησία
Eiffel Tower|FR|city:Paris|Torre Eiffel|エッフェル塔|एफिल टॉवर;एफ़िल टॉवर|Πύργος του Άιφελ
Big Ben|GB|city:London|Big Ben|ビッグ・ベン;ビッグベン|बिग बेन|Μπιγκ Μπεν
Colosseum|IT|city:Rome|Coliseo;Coliseo romano|コロッセオ|कोलोसियम;कोलोज़ियम|Κολοσσαίο
Sagrada Família|ES|city:Barcelona|Sagrada Familia|サグラダ・ファミリア|सग्रादा फ़मीलिया|Σαγκράδα Φαμίλια
Taj Mahal|IN|city:Agra|Taj Mahal|タージ・マハル|ताजमहल;ताज महल|Ταζ Μαχάλ
Statue of Liberty|US|city:New York City|Estatua de la Libertad|自由の女神|स्टैच्यू ऑफ लिबर्टी|Άγαλμα της Ελευθερίας
Times Square|US|city:New York City|Times Square|タイムズスクエア|टाइम्स स्क्वायर|Τάιμς Σκουέαρ
Machu Picchu|PE|city:Cusco|Machu Picchu|マチュピチュ|माचू पिच्चू|Μάτσου Πίτσου
Mount Fuji|JP|admin1:Shizuoka|Monte Fuji|富士山|फुजी पर्वत|Όρος Φούτζι
Great Wall of China|CN|country|Gran Muralla China|万里の長城|चीन की महान दीवार|Σινικό Τείχος
Acropolis|GR|city:Athens|Acrópolis de Atenas|アクロポリス|एक्रोपोलिस|Ακρόπολη
Angkor Wat|KH|country|Angkor Wat|アンコール・ワット|अंकोरवाट|Άνγκορ Βατ
Ha Long Bay|VN|country|Bahía de Ha Long|ハロン湾|हा लॉन्ग बे|Κόλπος Χα Λονγκ
Niagara Falls|CA|city:Niagara Falls|Cataratas del Niágara|ナイアガラの滝|नियाग्रा जलप्रपात|Καταρράκτες του Νιαγάρα
Sydney Opera House|AU|city:Sydney|Ópera de Sídney|シドニー・オペラハウス|सिडनी ओपेरा हाउस|Όπερα του Σίδνεϊ
Red Fort|IN|city:Delhi|Fuerte Rojo|ラール・キラー|लाल किला|Κόκκινο Οχυρό
Hawa Mahal|IN|city:Jaipur|Hawa Mahal|風の宮殿|हवा महल|Χάουα Μαχάλ
Gateway of India|IN|city:Mumbai|Puerta de la India|インド門|गेटवे ऑफ इंडिया|Πύλη της Ινδίας
Charminar|IN|city:Hyderabad|Charminar|チャールミナール|चारमीनार|Τσαρμινάρ
Golden Temple|IN|city:Amritsar|Templo Dorado|黄金寺院|स्वर्ण मंदिर|Χρυσός Ναός
Howrah Bridge|IN|city:Kolkata|Puente Howrah|ハウラー橋|हावड़ा ब्रिज|Γέφυρα Χάουρα
Marina Beach|IN|city:Chennai|Marina Beach|マリーナ・ビーチ|मरीना बीच|Μαρίνα Μπιτς
Himalayas|NP|country|Himalaya|ヒマラヤ|हिमालय|Ιμαλάια
Bengaluru|IN|city|Bengaluru|ベンガルール|बेंगलुरू|Μπενγκαλούρου
Manali|IN|city:Manali|Manali|マナリ|मनाली|Μανάλι
Rishikesh|IN|city:Rishikesh|Rishikesh|リシケシュ|ऋषिकेश|Ρισικές
Kerala|IN|admin1|Kerala|ケーララ|केरल;केरला|Κεράλα
Goa|IN|admin1|Goa|ゴア|गोवा|Γκόα
Ladakh|IN|admin1|Ladakh|ラダック|लद्दाख|Λαντάκ
Kashmir|IN|admin1:Jammu and Kashmir|Cachemira|カシミール|कश्मीर|Κασμίρ
Hokkaido|JP|admin1|Hokkaido|北海道|होक्काइडो|Χοκάιντο
Okinawa|JP|admin1|Okinawa|沖縄;沖縄県|ओकिनावा|Οκινάουα
Nara|JP|city|Nara|奈良|नारा|Νάρα
Hiroshima|JP|city|Hiroshima|広島|हिरोशिमा|Χιροσίμα
Kamakura|JP|city|Kamakura|鎌倉|कामाकुरा|Καμακούρα
Meteora|GR|city:Kalabaka|Meteora|メテオラ|मेटियोरा|Μετέωρα
Pelion|GR|admin1:Thessaly|Pelión|ペリオン山|पेलियन|Πήλιο
Corfu|GR|city:Kerkyra|Corfú|コルフ島|कोर्फू|Κέρκυρα
Naxos|GR|admin1:South Aegean|Naxos|ナクソス島|नक्सोस|Νάξος
Paros|GR|admin1:South Aegean|Paros|パロス島|पारोस|Πάρος
Tinos|GR|admin1:South Aegean|Tinos|ティノス島|टिनोस|Τήνος
Rhodes|GR|city:Rhodes|Rodas|ロドス島|रोड्स|Ρόδος
Zakynthos|GR|city:Zakynthos|Zante|ザキントス島|ज़ाकिन्थोस|Ζάκυνθος
Kefalonia|GR|admin1:Ionian Islands|Cefalonia|ケファロニア島|केफालोनिया|Κεφαλονιά;Κεφαλληνία
Halkidiki|GR|admin1:Central Macedonia|Calcídica|ハルキディキ|हल्किडिकी|Χαλκιδική
Oia|GR|admin1:South Aegean|Oia|イア|ओइया|Οία
Plaka|GR|city:Athens|Plaka|プラカ|प्लाका|Πλάκα Αθήνας
Monastiraki|GR|city:Athens|Monastiraki|モナスティラキ|मोनास्टिराकी|Μοναστηράκι
Piraeus|GR|city|El Pireo|ピレウス|पीरियस|Πειραιάς
Nafplio|GR|city|Nauplia|ナフプリオ|नाफ्प्लियो|Ναύπλιο
Chania|GR|city|La Canea|ハニア|चानिया|Χανιά
Ioannina|GR|city|Ioánina|ヨアニナ|इयोआनिना|Ιωάννινα
Nicosia|CY|city|Nicosia|ニコシア|निकोसिया|Λευκωσία
Patagonia|AR|country|Patagonia|パタゴニア|पैटागोनिया|Παταγονία
Atacama Desert|CL|country|Desierto de Atacama;Atacama|アタカマ砂漠|अटाकामा रेगिस्तान|Έρημος Ατακάμα
Sahara|MA|country|Sahara|サハラ砂漠|सहारा रेगिस्तान|Σαχάρα
"""

# Spanish demonyms (masculine singular): their feminine and plural forms are generated.
ES_DEMONYMS = """
CH suizo|FR francés|IT italiano|DE alemán|JP japonés|MX mexicano|AR argentino|ES español
PT portugués|GB británico|GB inglés|US estadounidense|US norteamericano|BR brasileño
CO colombiano|PE peruano|CL chileno|CU cubano|GR griego|RU ruso|MA marroquí|EG egipcio
CA canadiense|AU australiano|KR coreano|TH tailandés|VN vietnamita|NL holandés|SE sueco
NO noruego|IE irlandés|AT austriaco|BE belga|PL polaco|VE venezolano|EC ecuatoriano
UY uruguayo|PY paraguayo|BO boliviano|GT guatemalteco|CR costarricense|PA panameño
DO dominicano|PR puertorriqueño|SV salvadoreño|HN hondureño|NI nicaragüense|TR turco
ES andaluz|ES catalán|ES gallego|ES vasco|ES madrileño|ES canario|ES valenciano|MX yucateco
"""

# Hindi demonyms and adjectives of places.
HI_DEMONYMS = """
IN भारतीय|IN हिंदुस्तानी|JP जापानी|NP नेपाली|PK पाकिस्तानी|FR फ्रांसीसी|IT इतालवी
US अमेरिकी|US अमरीकी|GB ब्रिटिश|GB अंग्रेज़ी|DE जर्मन|RU रूसी|TH थाई|LK श्रीलंकाई
AE अमीराती|IN बंगाली|IN पंजाबी|IN गुजराती|IN राजस्थानी|IN कश्मीरी|IN मराठी|IN तमिल
"""

# Greek demonyms, all forms written out (adjectives: m/f/n, singular and plural).
EL_DEMONYMS = """
GR ελληνικός;ελληνική;ελληνικό;ελληνικά;ελληνικές;ελληνικοί;έλληνας;έλληνες;ελληνίδα
CY κυπριακός;κυπριακή;κυπριακό;κυπριακά;κύπριος
FR γαλλικός;γαλλική;γαλλικό;γαλλικά;γάλλος
IT ιταλικός;ιταλική;ιταλικό;ιταλικά;ιταλός
ES ισπανικός;ισπανική;ισπανικό;ισπανικά
JP ιαπωνικός;ιαπωνική;ιαπωνικό;ιαπωνικά
"""

# Everyday words of each language that are also names of (mostly small) places: a caption
# that uses them names no place. Multi-word entries are phrases whose first word alone would
# be a place name ("हवाई जहाज": aeroplane, "हवाई" alone: Hawaii).
NON_PLACE = {
    "es": """mesa sala casa playa mar sol luna cielo flores flor jardín jardin parque palacio
        ruinas desierto selva algodón algodon madera piedra montaña montana río rio lago isla islas nieve
        ciudad pueblo calle plaza mercado iglesia catedral puerto bahía bahia valle bosque
        monte campo granja rancho cocina baño bano comedor dormitorio salón salon terraza
        patio piscina fuente torre puente castillo paraíso paraiso esperanza
        merced paz gloria libertad union unión
        dolores pilar soledad cruz santa santo san rosa blanca clara
        oro plata perla estrella vista bella buena nueva viejo vieja verde roja rojo azul
        negro negra alta alto grande bajo baja real colonia centro norte sur este
        oeste toro caballo perro gato pastel fiesta moda tienda venta vendo
        alquiler hotel hostal cafe café bar arena madre padre niño nino niños ninos
        chocolate canela vainilla naranja limón limon manzana fresa coco palma palmas""",
    "ja": """ハウス コレ ニン トナ カフェ ホテル ビーチ パーク タワー センター ホーム
        中央 本町 新田 大和 日本橋 銀座 公園 海岸 温泉""",
    "hi": """में पर के की का को से ने और या है हैं था थी एक यह वह ये वे लिए तक भी साथ बाद
        पहले ऊपर नीचे अंदर बाहर पास दूर बहुत सबसे नया नई पुराना पुरानी बड़ा बड़ी छोटा छोटी
        लाल मोबाइल हवा नीला नीले हरा पीला काला सफेद गुलाबी सुनहरा पानी
        बाजार बाज़ार मंदिर महल किला नगर शहर गांव गाँव घर सड़क नदी पहाड़ झील समुद्र तट
        बगीचा बगीचे फूल चाय केक खाना शादी सुबह शाम रात दिन राजा रानी सूरज चांद चाँद
        सोना चांदी हीरा मोती कमल गंगा जमुना सागर आकाश धरती माता देवी राम कृष्ण शिव
        हवाई जहाज|हवाई अड्डा|हवाई अड्डे|हवाई यात्रा|हवाई सेवा|हवाई मार्ग|हवाई चप्पल|हवाई हमला
        हवाई फायर|हवाई टिकट|हवाई किराया|हवाई दृश्य|हवाई फोटो""",
    "el": """χώρα πόλη πολη λίμνη παραλία πύργος κάστρο νέα νέο νέος άγιος αγία άγιοι θέα
        όρος κήπος νησί νησιά λιμάνι σπίτι πλάκα φως ήλιος θάλασσα βουνό δάσος χωριό
        πλατεία αγορά εκκλησία ναός μονή σπήλαιο ακτή κόλπος φάρος καφές ποτάμι γέφυρα
        δρόμος ρόδα ελιά ελιές αμπέλι κρασί μέλι σύκο σύκα φέτα ψωμί καλό καλή ωραία
        μεγάλο μικρό παλιό παλιά κάτω άνω πάνω μέσα έξω λευκό μαύρο κόκκινο πράσινο μπλε
        χρυσό ασημένιο κρύα ζεστή βράχος πέτρα άμμος νερό κέντρο σταθμός""",
}
