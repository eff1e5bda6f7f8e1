"""Common first names (US and UK news): quotes read them for a pronoun's gender, entities for a person's name."""

from __future__ import annotations

# Common first names (US and UK news) that tell a pronoun which person it can be.
FEMALE_NAMES = set(
    "mary patricia jennifer linda elizabeth barbara susan jessica sarah karen nancy lisa betty margaret sandra "
    "ashley kimberly emily donna michelle dorothy carol amanda melissa deborah stephanie rebecca sharon laura "
    "cynthia kathleen amy shirley angela helen anna brenda pamela nicole emma samantha katherine christine "
    "debra rachel catherine carolyn janet ruth maria heather diane virginia julie joyce victoria olivia kelly "
    "christina lauren joan evelyn judith megan cheryl andrea hannah martha jacqueline frances gloria ann "
    "teresa kathryn sara janice jean alice madison doris abigail julia judy grace denise amber marilyn "
    "beverly danielle theresa sophia marie diana brittany natalie isabella charlotte rose alexis kayla "
    "hillary carly nikki sarah michele elizabeth nancy dianne kirsten tammy kellyanne ivanka melania chelsea "
    "huma hope kelly jill tulsi debbie donna kamala condoleezza madeleine ruth sonia elena loretta susana "
    "jeanne jane joni katie meghan megyn mika dana greta cecile ana jayne angie alexis theresa "
    "nicola yvette harriet priti liz penny andrea jacinda angela ursula marine christine".split()
)
MALE_NAMES = set(
    "james robert john michael william david richard joseph thomas charles christopher daniel matthew anthony "
    "mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey "
    "ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory "
    "alexander frank patrick raymond jack dennis jerry tyler aaron jose adam nathan henry douglas zachary "
    "peter kyle ethan walter noah jeremy christian keith roger terry gerald harold sean austin carl arthur "
    "lawrence dylan jesse jordan bryan billy joe bruce gabriel logan albert willie alan juan wayne elijah "
    "randy roy vincent ralph eugene russell bobby mason philip louis barack bernie ted marco jeb ben chris "
    "mike rand rick lindsey bill al joe tim mitch harry newt rudy reince corey jared reince sean jim tom "
    "dick jimmy lyndon ronald gerald herbert franklin dwight hugh boris keir rishi nigel jeremy gordon tony "
    "emmanuel vladimir xi angus dan doug greg jake jon josh luke matt nick pete phil ron sam steve will "
    "martin mario ed fred glenn rush karl newt elijah jamie bobby guy hogan reince".split()
)
FIRST_NAMES = FEMALE_NAMES | MALE_NAMES
