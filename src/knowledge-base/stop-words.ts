/**
 * Function words dropped before stemming: they appear in every e-mail and article, so they add
 * cost and noise to ranking. Both lists are in normalised form (lower case, ё → е).
 */
export const RUSSIAN_STOP_WORDS = new Set(
  `а без более бы был была были было быть в вам вас весь во вот все всего всех вы где да даже для до его ее ей
  ему если есть еще же за здесь и из или им их к как какой какая какие ко когда кто ли либо мне мной мы на над надо
  наш наша наше наши не него нее нет ни них но ну о об однако он она они оно от очень по под после при про с со так
  также такой там те тем то того тоже той только том ты у уже хотя чего чей чем что чтобы чье чья эта эти это этот
  я мой моя мое мои меня мне свой своя свое свои себя себе ваш ваша ваше ваши вами нам нас ним ней нему тут теперь
  вдруг ведь впрочем где-то зачем здравствуйте добрый день вечер утро пожалуйста спасибо уважаемые уважаемый
  уважением привет можно нужно хочу хотел хотела бы просто сейчас сегодня вчера`
    .split(/\s+/)
    .filter(Boolean),
);

export const ENGLISH_STOP_WORDS = new Set(
  `a about above after again against all am an and any are as at be because been before being below between both
  but by can could did do does doing down during each few for from further had has have having he her here hers
  him his how i if in into is it its itself just me more most my no nor not now of off on once only or other our
  ours out over own same she should so some such than that the their theirs them then there these they this those
  through to too under until up very was we were what when where which while who whom why will with would you your
  yours hello hi dear please thanks thank regards`
    .split(/\s+/)
    .filter(Boolean),
);
