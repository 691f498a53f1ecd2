package config

import "time"

// The rules a model-aircraft shop can use out of the box. Keywords and
// phrases are in English, with Portuguese, Turkish and Spanish where a
// customer would write them; triage folds case and accents, so each word is
// written once as a customer would type it.

// defaultHours returns the opening hours: Monday to Friday 09:00 to 18:00
// and Saturday 10:00 to 16:00.
func defaultHours() Hours {
	return Hours{
		Holidays:        []string{},
		AfterHoursReply: "Thanks for contacting {shop}. We're closed now and will answer when we open: {hours}.",
		Open: []OpenHours{
			{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "18:00"},
			{Days: []string{"sat"}, From: "10:00", To: "16:00"},
		},
	}
}

// defaultSLA returns the response and resolution times by priority.
func defaultSLA() SLA {
	return SLA{
		EscalateBefore: Duration{30 * time.Minute},
		BusinessHours:  false,
		Low:            SLATarget{FirstResponse: Duration{48 * time.Hour}, Resolution: Duration{168 * time.Hour}},
		Normal:         SLATarget{FirstResponse: Duration{24 * time.Hour}, Resolution: Duration{72 * time.Hour}},
		High:           SLATarget{FirstResponse: Duration{4 * time.Hour}, Resolution: Duration{24 * time.Hour}},
		Urgent:         SLATarget{FirstResponse: Duration{time.Hour}, Resolution: Duration{8 * time.Hour}},
	}
}

// defaultAutomations returns the one default automation: a ticket left
// pending for a week is closed.
func defaultAutomations() []Automation {
	return []Automation{{
		Name:  "close stale pending",
		When:  "pending_for",
		After: Duration{168 * time.Hour},
		If: Conditions{
			Channel:       []string{},
			Category:      []string{},
			Priority:      []string{},
			Tag:           []string{},
			Status:        []string{},
			BusinessHours: "any",
		},
		Then: []Action{
			{Action: "set_status", Value: "closed"},
			{Action: "note", Value: "Closed automatically after 7 days without a reply."},
		},
	}}
}

// defaultTriage returns the default classification, priority and routing
// rules.
func defaultTriage() Triage {
	return Triage{
		RepeatWindow: Duration{24 * time.Hour},
		RepeatCount:  3,
		ContactOwner: true,
		ChannelPriority: ChannelPriority{
			Voicemail:  "high",
			MissedCall: "high",
			SMS:        "normal",
			WebForm:    "normal",
			Email:      "normal",
			Staff:      "normal",
			API:        "normal",
			Cloud:      "normal",
		},
		Categories: defaultCategories(),
		Tags:       defaultTags(),
		Flags:      defaultFlags(),
		Extract:    defaultExtract(),
		Teams: []Team{
			{Name: "shop", Members: []string{}, Strategy: "round_robin", Assignee: ""},
		},
	}
}

func defaultCategories() []Category {
	return []Category{
		{
			Name: "order_status",
			Team: "shop",
			Keywords: []string{
				"order", "orders", "dispatched", "dispatch",
				"pedido", "encomenda",
				"sipariş", "siparişim", "siparişimi",
			},
			Phrases: []string{
				"order status", "where is my order", "status of my order", "has my order",
				"when will my order", "order confirmation",
				"status do pedido", "estado do pedido", "onde está o meu pedido", "onde está meu pedido",
				"onde está a minha encomenda",
				"sipariş durumu", "siparişim nerede", "siparişim ne zaman",
				"estado de mi pedido", "dónde está mi pedido",
			},
			Patterns: []string{},
			Tags:     []string{},
			MinScore: 1,
		},
		{
			Name: "shipping",
			Team: "shop",
			Keywords: []string{
				"shipping", "shipped", "delivery", "deliver", "delivered", "courier", "tracking",
				"postage", "parcel", "package", "shipment", "carrier",
				"entrega", "frete", "envio", "rastreio", "correios", "transportadora",
				"kargo", "kargom", "teslimat", "gelmedi",
				"paquete", "envío", "seguimiento", "mensajería",
			},
			Phrases: []string{
				"tracking number", "not arrived", "hasn't arrived", "has not arrived", "not been delivered",
				"not delivered", "delivery time", "shipping cost",
				"código de rastreio", "não chegou", "ainda não chegou",
				"kargo takip", "kargo takip numarası",
				"número de seguimiento", "no ha llegado",
			},
			Patterns: []string{},
			Tags:     []string{},
			MinScore: 1,
		},
		{
			Name: "returns_refunds",
			Team: "shop",
			Keywords: []string{
				"return", "returns", "returning", "refund", "refunds", "refunded", "exchange", "rma",
				"devolução", "devolver", "reembolso", "troca", "trocar",
				"iade", "değişim", "değiştirmek",
				"devolución", "reembolsar", "cambio",
			},
			Phrases: []string{
				"money back", "send it back", "return label", "want a refund", "return my order",
				"quero devolver", "dinheiro de volta",
				"geri göndermek", "para iadesi", "iade etmek",
				"devolver el dinero",
			},
			Patterns: []string{},
			Tags:     []string{},
			MinScore: 1,
		},
		{
			Name: "warranty",
			Team: "shop",
			Keywords: []string{
				"warranty", "guarantee", "guaranteed", "defective", "faulty", "doa",
				"garantia", "defeito", "defeituoso", "defeituosa",
				"garanti", "garantili", "arızalı", "kusurlu",
				"defectuoso", "defectuosa",
			},
			Phrases: []string{
				"under warranty", "warranty claim", "dead on arrival", "arrived broken", "arrived damaged",
				"manufacturing defect",
				"em garantia", "na garantia",
				"garanti kapsamında",
				"en garantía",
			},
			Patterns: []string{},
			Tags:     []string{},
			MinScore: 1,
		},
		{
			Name: "troubleshooting",
			Team: "shop",
			Keywords: []string{
				"troubleshooting", "troubleshoot", "problem", "problems", "issue", "issues", "error",
				"fault", "beeping", "beeps", "jitter", "jittering", "twitching", "calibrate",
				"calibration", "vibration", "overheating", "repair", "fix", "swollen", "puffed",
				"problema", "problemas", "erro", "falha", "conserto", "consertar", "inchada",
				"sorun", "sorunu", "hata", "arıza", "çalışmıyor", "tamir", "şişti", "şişmiş",
				"falla", "fallo", "reparar", "hinchada",
			},
			Phrases: []string{
				"not working", "doesn't work", "does not work", "won't work", "stopped working",
				"won't arm", "won't spin", "won't turn on", "not responding",
				"não funciona", "parou de funcionar", "não liga",
				"no funciona", "dejó de funcionar",
			},
			Patterns: []string{},
			Tags:     []string{},
			MinScore: 1,
		},
		{
			Name: "parts_availability",
			Team: "shop",
			Keywords: []string{
				"stock", "available", "availability", "spare", "spares", "part", "parts", "restock",
				"estoque", "disponível", "disponibilidade", "peça", "peças", "reposição",
				"stok", "stokta", "mevcut", "yedek", "parça",
				"repuesto", "repuestos", "disponible", "existencias",
			},
			Phrases: []string{
				"in stock", "out of stock", "back in stock", "do you have", "do you stock", "do you sell",
				"spare parts", "replacement part",
				"tem em estoque", "peças de reposição", "vocês têm",
				"stokta var mı", "yedek parça",
				"tienen en stock", "hay stock",
			},
			Patterns: []string{},
			Tags:     []string{},
			MinScore: 1,
		},
		{
			Name:     "general",
			Team:     "shop",
			Keywords: []string{},
			Phrases:  []string{},
			Patterns: []string{},
			Tags:     []string{},
			MinScore: 0,
		},
	}
}

func defaultTags() []TagRule {
	return []TagRule{
		{
			Name: "lipo",
			Keywords: []string{
				"lipo", "lipos", "lihv", "nimh", "battery", "batteries", "charger", "chargers",
				"charging", "balance",
				"bateria", "baterias", "carregador", "carregar",
				"pil", "piller", "pili", "batarya", "bataryası", "şarj",
				"batería", "baterías", "cargador", "cargar",
			},
			Phrases: []string{
				"li-po", "balance lead", "balance charger", "storage charge",
				"şarj aleti", "şarj cihazı",
			},
			Patterns: []string{},
		},
		{
			Name:     "servo",
			Keywords: []string{"servo", "servos", "servomotor", "servomotores", "servolar", "servosu"},
			Phrases:  []string{"servo arm", "servo horn"},
			Patterns: []string{},
		},
		{
			Name:     "esc",
			Keywords: []string{"esc", "escs", "bec", "ubec", "variador"},
			Phrases: []string{
				"speed controller", "electronic speed controller",
				"controlador de velocidade", "hız kontrolcüsü", "controlador de velocidad",
			},
			Patterns: []string{},
		},
		{
			Name: "motor",
			Keywords: []string{
				"motor", "motors", "brushless", "brushed", "kv", "bearing", "bearings", "stator",
				"motores", "rolamento", "motoru", "motorlar", "rulman", "rodamiento",
			},
			Phrases:  []string{},
			Patterns: []string{},
		},
		{
			Name: "propeller",
			Keywords: []string{
				"propeller", "propellers", "prop", "props",
				"hélice", "hélices", "pervane", "pervaneler", "pervanesi",
			},
			Phrases:  []string{},
			Patterns: []string{},
		},
		{
			Name: "receiver",
			Keywords: []string{
				"receiver", "receivers", "rx", "transmitter", "tx", "radio", "bind", "binding",
				"failsafe", "telemetry", "elrs", "expresslrs", "crossfire", "frsky", "spektrum",
				"flysky", "radiomaster",
				"receptor", "transmissor", "rádio",
				"alıcı", "verici", "kumanda", "eşleştirme",
				"emisora",
			},
			Phrases:  []string{"won't bind", "will not bind", "bind plug", "no signal", "sem sinal", "sinyal yok"},
			Patterns: []string{},
		},
		{
			Name: "flight_controller",
			Keywords: []string{
				"fc", "betaflight", "inav", "ardupilot", "gyro", "gyroscope", "accelerometer",
				"blackbox", "controladora",
			},
			Phrases: []string{
				"flight controller", "flight control board", "controladora de voo",
				"uçuş kontrol kartı", "uçuş kontrolcüsü", "controladora de vuelo",
			},
			Patterns: []string{},
		},
		{
			Name: "kit_assembly",
			Keywords: []string{
				"kit", "kits", "assembly", "assemble", "assembling", "instructions", "manual", "glue",
				"build", "building", "arf",
				"montagem", "montar", "instruções", "cola",
				"montaj", "kurulum", "talimat", "yapıştırıcı",
				"montaje", "instrucciones", "pegamento",
			},
			Phrases: []string{
				"build instructions", "assembly instructions", "missing parts",
				"manual de instruções", "montaj talimatı",
			},
			Patterns: []string{},
		},
		{
			Name: "crash_repair",
			Keywords: []string{
				"crash", "crashed", "crashing", "repair", "repairs", "broken", "broke", "snapped",
				"cracked", "damaged",
				"queda", "caiu", "conserto", "consertar", "reparo", "quebrado", "quebrada", "quebrou",
				"kaza", "düştü", "kırıldı", "kırık", "tamir", "onarım",
				"reparación", "roto", "estrelló",
			},
			Phrases:  []string{"crash damage", "broken wing", "broken fuselage", "broken landing gear"},
			Patterns: []string{},
		},
	}
}

func defaultFlags() []Flag {
	return []Flag{
		{
			Name:     "safety",
			Priority: "urgent",
			Notify:   true,
			Keywords: []string{
				"fire", "smoke", "smoking", "burn", "burning", "burnt", "burned", "flames",
				"swollen", "puffed", "puffy", "exploded", "explosion",
				"fogo", "fumaça", "fumo", "queimado", "queimou", "incêndio", "inchada", "estufada",
				"yangın", "duman", "alev", "yandı", "yanık", "şişti", "şişmiş",
				"fuego", "humo", "quemado", "incendio", "hinchada",
			},
			Phrases: []string{
				"swollen battery", "puffed battery", "battery is swollen", "caught fire", "on fire",
				"bateria inchada", "pegou fogo",
				"şişmiş pil", "pil şişti", "batarya şişti",
				"batería hinchada",
			},
			Patterns: []string{},
		},
		{
			Name:     "urgent_words",
			Priority: "high",
			Notify:   false,
			Keywords: []string{
				"urgent", "urgently", "asap", "emergency", "complaint", "refund", "chargeback",
				"urgente", "reclamação", "reembolso",
				"acil", "şikayet", "iade",
				"queja", "reclamo",
			},
			Phrases: []string{
				"as soon as possible", "right away",
				"o mais rápido possível", "o quanto antes",
				"en seguida", "lo antes posible",
			},
			Patterns: []string{},
		},
	}
}

func defaultExtract() []Extract {
	return []Extract{
		{
			Field:   "order_number",
			Pattern: `(?i)\b(?:order|pedido|encomenda|sipari[sş]\pL*)\s*(?:no\.?|number|nr\.?|n[º°o]\.?|n[uú]mero|numaras[iı]|#)?\s*:?\s*#?(\d{4,10})\b`,
		},
		{
			Field:   "tracking_number",
			Pattern: `(?i)\b([a-z]{2}\d{9}[a-z]{2}|1z[0-9a-z]{16})\b`,
		},
		{
			Field:   "product_code",
			Pattern: `\b(?i:sku)[\s:#-]*([0-9A-Za-z][0-9A-Za-z-]{2,19})\b|\b([A-Z]{2,5}-[0-9]{1,6}[A-Z]{0,3})\b`,
		},
	}
}
