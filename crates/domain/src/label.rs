//! Shipping labels, 4×6 inches, as ZPL for thermal printers and as PDF for
//! everything else. Both carry the tracking number as a Code 128 barcode.
//! The PDF is written by hand (one page, Helvetica, filled rectangles for the
//! bars) so no font or layout engine is needed on the server.

use code128::Code128;

/// What goes on one package's label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelData {
    pub ship_from: Vec<String>,
    pub ship_to: Vec<String>,
    pub carrier: String,
    pub service: String,
    pub tracking: String,
    pub order_number: String,
    pub shipment_number: String,
    /// "1 of 2"
    pub package: String,
    pub weight_g: i64,
}

/// Checks a tracking number: carriers use 8 to 40 letters and digits (some
/// with dashes), and the barcode must be printable ASCII.
pub fn parse_tracking(field: &str, input: &str) -> Result<String, crate::FieldError> {
    let t = input.trim().to_ascii_uppercase();
    let ok =
        (6..=40).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(t)
    } else {
        Err(crate::FieldError::new(
            field,
            "scan or type the carrier's tracking number (6 to 40 letters, digits or dashes)",
        ))
    }
}

fn weight_text(g: i64) -> String {
    format!("{}.{:03} kg", g / 1000, g % 1000)
}

/// ZPL at 203 dpi (812 × 1218 dots). Field data goes through `^FH` so that
/// `^`, `~` and `_` in names or addresses print instead of acting as commands.
pub fn zpl(l: &LabelData) -> String {
    fn field(s: &str) -> String {
        let mut out = String::new();
        for c in s.chars() {
            match c {
                '^' => out.push_str("_5E"),
                '~' => out.push_str("_7E"),
                '_' => out.push_str("_5F"),
                c if c.is_control() => {}
                c => out.push(c),
            }
        }
        out
    }
    let mut z = String::from("^XA\n^CI28\n^PW812\n^LL1218\n^LH0,0\n");
    let mut y = 40;
    z.push_str(&format!("^FO40,{y}^A0N,26,26^FH^FDFROM^FS\n"));
    for line in &l.ship_from {
        y += 30;
        z.push_str(&format!("^FO40,{y}^A0N,26,26^FH^FD{}^FS\n", field(line)));
    }
    y += 50;
    z.push_str(&format!("^FO40,{y}^GB732,3,3^FS\n"));
    y += 20;
    z.push_str(&format!("^FO40,{y}^A0N,30,30^FH^FDSHIP TO^FS\n"));
    for line in &l.ship_to {
        y += 44;
        z.push_str(&format!("^FO60,{y}^A0N,40,40^FH^FD{}^FS\n", field(line)));
    }
    y += 70;
    z.push_str(&format!("^FO40,{y}^GB732,3,3^FS\n"));
    y += 24;
    z.push_str(&format!(
        "^FO40,{y}^A0N,40,40^FH^FD{} {}^FS\n",
        field(&l.carrier),
        field(&l.service)
    ));
    y += 56;
    z.push_str(&format!(
        "^FO40,{y}^A0N,28,28^FH^FDOrder {}  Shipment {}  Package {}  {}^FS\n",
        field(&l.order_number),
        field(&l.shipment_number),
        field(&l.package),
        weight_text(l.weight_g)
    ));
    z.push_str(&format!(
        "^FO60,820^BY3,3,220^BCN,220,Y,N,N^FD{}^FS\n^XZ\n",
        field(&l.tracking)
    ));
    z
}

/// Page size in points: 4 × 6 inches.
pub const PDF_WIDTH: f64 = 288.0;
pub const PDF_HEIGHT: f64 = 432.0;

/// Text as a PDF string in WinAnsi: Latin-1 letters print, anything else
/// becomes `?`, and the string delimiters are escaped.
fn pdf_text(s: &str) -> Vec<u8> {
    let mut out = vec![b'('];
    for c in s.chars() {
        let b = if (c as u32) < 256 && !c.is_control() {
            c as u32 as u8
        } else {
            b'?'
        };
        if matches!(b, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b')');
    out
}

/// One page's drawing operators.
fn page_content(l: &LabelData) -> Vec<u8> {
    let mut content: Vec<u8> = Vec::new();
    let text = |size: f64, x: f64, y: f64, s: &str, content: &mut Vec<u8>| {
        content.extend_from_slice(format!("BT /F1 {size} Tf {x} {y} Td ").as_bytes());
        content.extend_from_slice(&pdf_text(s));
        content.extend_from_slice(b" Tj ET\n");
    };
    let mut y = PDF_HEIGHT - 24.0;
    text(8.0, 14.0, y, "FROM", &mut content);
    for line in &l.ship_from {
        y -= 10.0;
        text(8.0, 14.0, y, line, &mut content);
    }
    y -= 12.0;
    content.extend_from_slice(format!("14 {y} 260 1 re f\n").as_bytes());
    y -= 14.0;
    text(9.0, 14.0, y, "SHIP TO", &mut content);
    for line in &l.ship_to {
        y -= 15.0;
        text(13.0, 22.0, y, line, &mut content);
    }
    y -= 16.0;
    content.extend_from_slice(format!("14 {y} 260 1 re f\n").as_bytes());
    y -= 18.0;
    text(
        13.0,
        14.0,
        y,
        &format!("{} {}", l.carrier, l.service),
        &mut content,
    );
    y -= 14.0;
    text(
        8.0,
        14.0,
        y,
        &format!(
            "Order {}  Shipment {}  Package {}  {}",
            l.order_number,
            l.shipment_number,
            l.package,
            weight_text(l.weight_g)
        ),
        &mut content,
    );
    // The barcode, with its quiet zones, spans the label's width.
    let code = Code128::encode(l.tracking.as_bytes());
    let module = (PDF_WIDTH - 16.0) / code.len() as f64;
    let (bar_y, bar_h) = (60.0, 80.0);
    for bar in code.bar_coordinates() {
        let x = 8.0 + bar.x as f64 * module;
        let w = bar.width as f64 * module;
        content.extend_from_slice(format!("{x:.3} {bar_y} {w:.3} {bar_h} re f\n").as_bytes());
    }
    text(12.0, 60.0, 40.0, &l.tracking, &mut content);
    content
}

/// A PDF with one 4×6 page per label (one per package).
pub fn pdf(labels: &[LabelData]) -> Vec<u8> {
    let pages = labels.len();
    // Objects: 1 catalog, 2 page tree, 3 font, then a page and its content
    // stream for each label.
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        )
        .into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    ];
    for (i, l) in labels.iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PDF_WIDTH} {PDF_HEIGHT}] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                5 + 2 * i
            )
            .into_bytes(),
        );
        let content = page_content(l);
        let mut s = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        s.extend_from_slice(&content);
        s.extend_from_slice(b"\nendstream");
        objects.push(s);
    }
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> LabelData {
        LabelData {
            ship_from: vec![
                "Keel Demo · EAST".into(),
                "1 Dock Rd, Newark NJ 07102, US".into(),
            ],
            ship_to: vec![
                "Ana (Test) Ruiz".into(),
                "12 Main St".into(),
                "Austin TX 78701".into(),
                "US".into(),
            ],
            carrier: "UPS".into(),
            service: "Ground".into(),
            tracking: "1Z999AA10123456784".into(),
            order_number: "SO-1001".into(),
            shipment_number: "SH-1".into(),
            package: "1 of 2".into(),
            weight_g: 1250,
        }
    }

    #[test]
    fn zpl_holds_the_tracking_number_in_a_code_128_command() {
        let z = zpl(&data());
        assert!(z.starts_with("^XA") && z.trim_end().ends_with("^XZ"));
        assert!(z.contains("^BCN,220,Y,N,N^FD1Z999AA10123456784^FS"), "{z}");
        assert!(z.contains("1.250 kg"));
    }

    #[test]
    fn zpl_escapes_command_characters_in_text() {
        let mut d = data();
        d.ship_to[0] = "A^B~C_D".into();
        let z = zpl(&d);
        assert!(z.contains("^FDA_5EB_7EC_5FD^FS"), "{z}");
    }

    #[test]
    fn the_pdf_is_well_formed_with_a_correct_cross_reference() {
        let mut second = data();
        second.package = "2 of 2".into();
        let p = pdf(&[data(), second]);
        assert!(p.starts_with(b"%PDF-1.4"));
        let text = String::from_utf8_lossy(&p);
        let xref: usize = text
            .split("startxref\n")
            .nth(1)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(&p[xref..xref + 4], b"xref");
        // Each offset in the table points at its object.
        let table = std::str::from_utf8(&p[xref..]).unwrap();
        for (i, line) in table.lines().skip(3).take(7).enumerate() {
            let at: usize = line[..10].parse().unwrap();
            assert!(p[at..].starts_with(format!("{} 0 obj", i + 1).as_bytes()));
        }
        assert!(text.contains("(Ana \\(Test\\) Ruiz)"));
        assert!(text.contains("re f"));
        assert!(text.contains("/Kids [4 0 R 6 0 R] /Count 2"));
    }

    #[test]
    fn tracking_numbers_are_checked() {
        assert_eq!(
            parse_tracking("t", " 1z999aa10123456784 ").unwrap(),
            "1Z999AA10123456784"
        );
        assert!(parse_tracking("t", "12345").is_err());
        assert!(parse_tracking("t", "1Z 999").is_err());
    }
}
